#include "mailbox/imap_parse.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "relay/headers.hpp"

namespace mailprobe::mailbox::imap {

namespace {

bool iequal_prefix(std::string_view s, std::string_view prefix) {
    if (s.size() < prefix.size()) return false;
    for (std::size_t i = 0; i < prefix.size(); ++i) {
        if (std::toupper(static_cast<unsigned char>(s[i])) !=
            std::toupper(static_cast<unsigned char>(prefix[i]))) {
            return false;
        }
    }
    return true;
}

std::optional<std::uint32_t> number(std::string_view s) {
    std::uint32_t v = 0;
    if (s.empty() || s.size() > 10) return std::nullopt;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
    return v;
}

}  // namespace

std::optional<std::vector<std::uint32_t>> parse_search(std::string_view line) {
    if (!iequal_prefix(line, "* SEARCH")) return std::nullopt;
    line.remove_prefix(8);
    std::vector<std::uint32_t> out;
    while (!line.empty()) {
        if (line.front() != ' ') return std::nullopt;
        line.remove_prefix(1);
        if (line.empty()) break;
        if (line.front() == '(') break;  // ESEARCH-style modifiers: ignore the rest
        auto end = line.find(' ');
        auto v = number(line.substr(0, end));
        if (!v || *v == 0) return std::nullopt;
        out.push_back(*v);
        line = end == std::string_view::npos ? std::string_view() : line.substr(end);
    }
    return out;
}

std::optional<std::uint32_t> parse_numbered(std::string_view line, std::string_view word) {
    if (!line.starts_with("* ")) return std::nullopt;
    line.remove_prefix(2);
    auto space = line.find(' ');
    if (space == std::string_view::npos) return std::nullopt;
    auto rest = line.substr(space + 1);
    if (rest.size() != word.size() || !iequal_prefix(rest, word)) return std::nullopt;
    return number(line.substr(0, space));
}

std::optional<std::size_t> literal_size(std::string_view line) {
    if (line.empty() || line.back() != '}') return std::nullopt;
    auto open = line.rfind('{');
    if (open == std::string_view::npos) return std::nullopt;
    auto digits = line.substr(open + 1, line.size() - open - 2);
    if (!digits.empty() && digits.back() == '+') digits.remove_suffix(1);
    std::size_t v = 0;
    if (digits.empty() || digits.size() > 12) return std::nullopt;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
    if (ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
    return v;
}

std::optional<std::uint32_t> fetch_uid(std::string_view line) {
    auto paren = line.find('(');
    if (!line.starts_with("* ") || paren == std::string_view::npos) return std::nullopt;
    auto head = line.substr(0, paren);
    if (head.size() < 7 || !iequal_prefix(head.substr(head.size() - 6), "FETCH ")) {
        return std::nullopt;
    }
    std::string_view items = line.substr(paren + 1);
    for (std::size_t i = 0; i + 4 <= items.size(); ++i) {
        bool boundary = i == 0 || items[i - 1] == ' ' || items[i - 1] == '(';
        if (boundary && iequal_prefix(items.substr(i), "UID ")) {
            auto rest = items.substr(i + 4);
            auto end = rest.find_first_of(" )");
            return number(rest.substr(0, end));
        }
    }
    return std::nullopt;
}

std::optional<std::int64_t> fetch_internaldate_ms(std::string_view line) {
    constexpr std::string_view key = "INTERNALDATE \"";
    auto at = line.find(key);
    if (at == std::string_view::npos) return std::nullopt;
    auto rest = line.substr(at + key.size());
    auto end = rest.find('"');
    if (end == std::string_view::npos || end > 40) return std::nullopt;
    // "27-Nov-2026 17:32:05 +0000" is an RFC 5322 date once the dashes are spaces; a
    // one-digit day may come space-padded (date-day-fixed, " 7-Nov-2026").
    std::string date(rest.substr(0, end));
    std::size_t day = date.find_first_not_of(' ');
    for (std::size_t i = day; i < date.size() && date[i] != ' '; ++i) {
        if (date[i] == '-') date[i] = ' ';
    }
    auto secs = relay::parse_date(date);
    if (!secs) return std::nullopt;
    return *secs * 1000;
}

std::optional<std::vector<std::string>> parse_capabilities(std::string_view line) {
    auto at = line.find("CAPABILITY ");
    if (!line.starts_with("* ") || at == std::string_view::npos) return std::nullopt;
    auto rest = line.substr(at + 11);
    auto close = rest.find(']');
    if (close != std::string_view::npos) rest = rest.substr(0, close);
    std::vector<std::string> caps;
    std::string word;
    for (char c : rest) {
        if (c == ' ') {
            if (!word.empty()) caps.push_back(word);
            word.clear();
        } else {
            word += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        }
    }
    if (!word.empty()) caps.push_back(word);
    return caps;
}

std::optional<std::uint32_t> response_code_number(std::string_view line, std::string_view code) {
    std::string needle = "[" + std::string(code) + " ";
    auto at = line.find(needle);
    if (at == std::string_view::npos) return std::nullopt;
    auto rest = line.substr(at + needle.size());
    return number(rest.substr(0, rest.find(']')));
}

std::string quote(std::string_view text) {
    std::string out = "\"";
    for (char c : text) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + "\"";
}

std::string uid_set(const std::vector<std::uint32_t>& uids) {
    std::string out;
    for (auto uid : uids) out += (out.empty() ? "" : ",") + std::to_string(uid);
    return out;
}

}  // namespace mailprobe::mailbox::imap
