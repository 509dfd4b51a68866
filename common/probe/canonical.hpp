#pragma once
// The canonical form of the parts of a message the v=2 probe tag covers. It must come out
// the same for our probe as sent and as fetched after real mail systems handled it: trace
// fields added, fields refolded, CRLF turned into LF, the body re-encoded as
// quoted-printable or base64, a footer appended after our text. Modelled on DKIM's
// "relaxed" canonicalization (RFC 6376 3.4.2 and 3.4.4). Untrusted input: malformed mail
// yields nullopt, never an exception; work is linear in the input.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace mailprobe::probe {

// The header fields whose canonical form the tag covers, in this order.
inline constexpr std::string_view k_signed_fields[] = {"Message-ID", "Subject", "Date"};

// "name:value\r\n" with the name lowercased and the value unfolded, every run of
// whitespace made one space, leading and trailing whitespace removed; nullopt unless the
// message has exactly one such field.
std::optional<std::string> canonical_field(std::string_view message, std::string_view name);

// The body (everything after the first empty line) decoded as its Content-Transfer-Encoding
// says, then canonical: lines end in CRLF, runs of whitespace are one space, whitespace at
// line ends and empty lines at the end are removed. nullopt for an unknown encoding or
// more than one Content-Transfer-Encoding field.
std::optional<std::string> canonical_body(std::string_view message);

// RFC 2045 6.7 quoted-printable decoding, lenient as 6.7 advises (a stray "=" stays). Line
// breaks come out as CRLF; input cut off anywhere decodes as far as it goes.
std::string decode_quoted_printable(std::string_view text);
// Base64 (line breaks ignored); nullopt on characters outside the alphabet. An incomplete
// last group (a fetch cut short) is left out.
std::optional<std::string> decode_base64(std::string_view text);

// Body canonicalization alone, for an already decoded body.
std::string canonical_text(std::string_view decoded);

}  // namespace mailprobe::probe
