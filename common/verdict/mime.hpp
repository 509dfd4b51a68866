#pragma once
// Just enough MIME (RFC 2045/2046) to take a delivery status notification apart: splitting a
// message into header and body, reading a Content-Type, and the parts of a multipart body.
// Input is untrusted: bounded, never throws.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace mailprobe::verdict {

inline constexpr std::size_t max_mime_parts = 32;
inline constexpr std::size_t max_mime_depth = 3;

struct Entity {
    std::string_view header;  // the header block, without the empty line
    std::string_view body;
};

// Splits at the first empty line (CRLF or LF); no empty line: all header, empty body.
Entity split_entity(std::string_view message);

struct ContentType {
    std::string type;  // "multipart/report", lower case; "text/plain" when absent
    std::string boundary;
    std::string report_type;  // the report-type parameter, lower case
};
ContentType content_type(std::string_view header_block);

// The body parts of a multipart body between "--boundary" lines (at most max_mime_parts);
// the preamble and epilogue are dropped. An unterminated last part runs to the end.
std::vector<Entity> multipart_parts(std::string_view body, std::string_view boundary);
// The same parts as raw text (header, empty line, body).
std::vector<std::string_view> multipart_spans(std::string_view body, std::string_view boundary);

// Every leaf entity of a message, depth-first, descending into multipart/* up to
// max_mime_depth (message/rfc822 parts are leaves: they are the returned message).
std::vector<Entity> leaf_parts(std::string_view message);

}  // namespace mailprobe::verdict
