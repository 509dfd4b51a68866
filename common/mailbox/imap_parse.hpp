#pragma once
// The pieces of IMAP (RFC 3501/9051) responses we read ourselves. Pure functions, so that
// hostile server text can be tested and fuzzed without a network.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mailprobe::mailbox::imap {

// "* SEARCH 4 7 9" -> {4, 7, 9}; nullopt when the line is not a SEARCH response or malformed.
std::optional<std::vector<std::uint32_t>> parse_search(std::string_view line);
// "* 12 EXISTS" -> 12 (also EXPUNGE with the word given).
std::optional<std::uint32_t> parse_numbered(std::string_view line, std::string_view word);
// A line ending in "{123}" or "{123+}" announces a literal of that many bytes.
std::optional<std::size_t> literal_size(std::string_view line);
// "* 3 FETCH (UID 17 BODY[HEADER] {345}" -> 17
std::optional<std::uint32_t> fetch_uid(std::string_view line);
// INTERNALDATE "27-Nov-2026 17:32:05 +0000" inside a FETCH line -> Unix ms.
std::optional<std::int64_t> fetch_internaldate_ms(std::string_view line);
// "* CAPABILITY IMAP4rev1 IDLE ..." or "* OK [CAPABILITY ...]" -> upper-cased words.
std::optional<std::vector<std::string>> parse_capabilities(std::string_view line);
// "[UIDNEXT 42]" inside an untagged OK -> 42.
std::optional<std::uint32_t> response_code_number(std::string_view line, std::string_view code);
// A mailbox name as an IMAP quoted string (modified UTF-7 is left to the user).
std::string quote(std::string_view text);
// "1,5,7" from UIDs (compact enough for our handful of probes).
std::string uid_set(const std::vector<std::uint32_t>& uids);

}  // namespace mailprobe::mailbox::imap
