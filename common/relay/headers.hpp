#pragma once
// Reading fields and dates out of an RFC 5322 header block. Everything here is meant for
// untrusted mail: malformed input yields empty/nullopt, never an exception, and work is
// linear in the input with hard caps.
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mailprobe::relay {

// A field whose raw text (name, value and folding) is longer than this is ignored.
inline constexpr std::size_t max_field_bytes = 64 * 1024;

// RFC 5322 header block (up to the first empty line; CRLF or LF) -> all fields named `name`
// (case-insensitive), unfolded (line break + WSP -> single space), in the order they appear.
std::vector<std::string> header_values(std::string_view header_block, std::string_view name);
// Same, but stops scanning once `max_count` values were found.
std::vector<std::string> header_values(std::string_view header_block, std::string_view name,
                                       std::size_t max_count);

// Unfolds one raw field value: every line break plus the WSP after it becomes one space;
// leading and trailing whitespace is trimmed.
std::string unfold(std::string_view raw_value);

// Index just past the comment opened at text[open] (which must be '('), honouring nesting
// and quoted-pairs; text.size() when the comment is never closed.
std::size_t comment_end(std::string_view text, std::size_t open);

// ASCII case-insensitive comparison (header names and keywords are ASCII).
bool iequals(std::string_view a, std::string_view b);

// RFC 5322 date-time, including the obsolete forms (two-digit years, named and military
// zones, no seconds, no day-of-week, comments, extra whitespace) -> seconds since the Unix
// epoch (UTC). Anything after the zone is ignored; a missing zone counts as -0000.
std::optional<std::int64_t> parse_date(std::string_view text);

}  // namespace mailprobe::relay
