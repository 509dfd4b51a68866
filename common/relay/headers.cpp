#include "relay/headers.hpp"

#include <array>
#include <chrono>

namespace mailprobe::relay {
namespace {

bool is_wsp(char c) {
    return c == ' ' || c == '\t';
}
bool is_space(char c) {
    return is_wsp(c) || c == '\r' || c == '\n';
}
bool is_digit(char c) {
    return c >= '0' && c <= '9';
}
bool is_alpha(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
char to_lower(char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
    return s;
}

// One physical line: [begin, end) is its text without the line break, `next` the start of
// the following line.
struct Line {
    std::size_t begin;
    std::size_t end;
    std::size_t next;
};

Line line_at(std::string_view s, std::size_t pos) {
    const std::size_t nl = s.find('\n', pos);
    std::size_t end = nl == std::string_view::npos ? s.size() : nl;
    const std::size_t next = nl == std::string_view::npos ? s.size() : nl + 1;
    if (end > pos && s[end - 1] == '\r') --end;
    return {pos, end, next};
}

// Comments become a single space, so the date grammar below only sees tokens.
std::string strip_comments(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size();) {
        if (text[i] == '(') {
            i = comment_end(text, i);
            out += ' ';
        } else {
            out += text[i++];
        }
    }
    return out;
}

// A forward-only reader over a comment-free date string; whitespace between tokens is free.
class Cursor {
public:
    explicit Cursor(std::string_view s) : m_s(s) {}

    void skip_ws() {
        while (m_pos < m_s.size() && is_space(m_s[m_pos])) ++m_pos;
    }
    char peek() {
        skip_ws();
        return m_pos < m_s.size() ? m_s[m_pos] : '\0';
    }
    bool accept(char c) {
        if (peek() != c || c == '\0') return false;
        ++m_pos;
        return true;
    }
    std::string_view alpha() {
        skip_ws();
        const std::size_t start = m_pos;
        while (m_pos < m_s.size() && is_alpha(m_s[m_pos])) ++m_pos;
        return m_s.substr(start, m_pos - start);
    }
    // A run of 1..max_digits digits; `count` receives the number of digits read.
    std::optional<int> number(std::size_t max_digits, std::size_t* count = nullptr) {
        skip_ws();
        const std::size_t start = m_pos;
        int value = 0;
        while (m_pos < m_s.size() && is_digit(m_s[m_pos])) {
            if (m_pos - start < max_digits) value = value * 10 + (m_s[m_pos] - '0');
            ++m_pos;
        }
        const std::size_t digits = m_pos - start;
        if (count != nullptr) *count = digits;
        if (digits == 0 || digits > max_digits) return std::nullopt;
        return value;
    }

private:
    std::string_view m_s;
    std::size_t m_pos = 0;
};

// Index (0-based) of a day or month name given by at least its first three letters, or -1.
template <std::size_t N>
int name_index(std::string_view word, const std::array<std::string_view, N>& names) {
    if (word.size() < 3) return -1;
    for (std::size_t i = 0; i < N; ++i) {
        if (iequals(word.substr(0, 3), names[i])) return static_cast<int>(i);
    }
    return -1;
}

constexpr std::array<std::string_view, 7> day_names{"mon", "tue", "wed", "thu",
                                                    "fri", "sat", "sun"};
constexpr std::array<std::string_view, 12> month_names{"jan", "feb", "mar", "apr", "may", "jun",
                                                       "jul", "aug", "sep", "oct", "nov", "dec"};

// RFC 5322 4.3: the North American zones keep their meaning; military letters and any
// other unknown alphabetic zone are "-0000" (their sign was historically reversed).
int alpha_zone_minutes(std::string_view zone) {
    struct Named {
        std::string_view name;
        int minutes;
    };
    static constexpr std::array<Named, 10> zones{{{"ut", 0},
                                                  {"gmt", 0},
                                                  {"est", -300},
                                                  {"edt", -240},
                                                  {"cst", -360},
                                                  {"cdt", -300},
                                                  {"mst", -420},
                                                  {"mdt", -360},
                                                  {"pst", -480},
                                                  {"pdt", -420}}};
    for (const auto& z : zones) {
        if (iequals(zone, z.name)) return z.minutes;
    }
    return 0;
}

// Zone offset in minutes east of UTC; nullopt only for a malformed numeric zone.
std::optional<int> parse_zone(Cursor& c) {
    const char sign = c.peek();
    if (sign == '+' || sign == '-') {
        c.accept(sign);
        std::size_t digits = 0;
        const auto hhmm = c.number(4, &digits);
        if (!hhmm || digits != 4 || *hhmm % 100 > 59) return std::nullopt;
        const int minutes = (*hhmm / 100) * 60 + *hhmm % 100;
        return sign == '-' ? -minutes : minutes;
    }
    if (is_alpha(sign)) return alpha_zone_minutes(c.alpha());
    return 0;  // missing zone: local time of unknown offset, like "-0000"
}

// RFC 5322 4.3: two-digit years are 19xx from 50 on, 20xx below; three digits add 1900.
std::optional<int> full_year(int year, std::size_t digits) {
    if (digits == 2) return year < 50 ? 2000 + year : 1900 + year;
    if (digits == 3) return 1900 + year;
    if (digits == 4 && year >= 1900) return year;
    return std::nullopt;
}

}  // namespace

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (to_lower(a[i]) != to_lower(b[i])) return false;
    }
    return true;
}

std::size_t comment_end(std::string_view text, std::size_t open) {
    std::size_t depth = 0;
    for (std::size_t i = open; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '\\') {
            ++i;  // quoted-pair: the next byte is literal, even '(' or ')'
        } else if (c == '(') {
            ++depth;
        } else if (c == ')' && --depth == 0) {
            return i + 1;
        }
    }
    return text.size();
}

std::string unfold(std::string_view raw_value) {
    std::string out;
    out.reserve(raw_value.size());
    for (std::size_t i = 0; i < raw_value.size(); ++i) {
        const char c = raw_value[i];
        const bool crlf = c == '\r' && i + 1 < raw_value.size() && raw_value[i + 1] == '\n';
        if (c != '\n' && !crlf) {
            out += c;
            continue;
        }
        if (crlf) ++i;
        while (i + 1 < raw_value.size() && is_wsp(raw_value[i + 1])) ++i;
        out += ' ';
    }
    return std::string(trim(out));
}

std::vector<std::string> header_values(std::string_view header_block, std::string_view name) {
    return header_values(header_block, name, std::numeric_limits<std::size_t>::max());
}

std::vector<std::string> header_values(std::string_view header_block, std::string_view name,
                                       std::size_t max_count) {
    std::vector<std::string> out;
    std::size_t pos = 0;
    while (pos < header_block.size() && out.size() < max_count) {
        const Line first = line_at(header_block, pos);
        if (first.end == first.begin) break;  // the empty line ends the header block
        // The field runs on over every following line that starts with WSP.
        std::size_t field_end = first.end;
        pos = first.next;
        while (pos < header_block.size() && is_wsp(header_block[pos])) {
            const Line cont = line_at(header_block, pos);
            field_end = cont.end;
            pos = cont.next;
        }
        const std::string_view field = header_block.substr(first.begin, field_end - first.begin);
        if (is_wsp(field.front()) || field.size() > max_field_bytes) continue;
        const std::size_t colon = field.substr(0, first.end - first.begin).find(':');
        if (colon == std::string_view::npos) continue;  // not a field (e.g. an mbox From_ line)
        std::string_view field_name = field.substr(0, colon);
        while (!field_name.empty() && is_wsp(field_name.back())) field_name.remove_suffix(1);
        if (iequals(field_name, name)) out.push_back(unfold(field.substr(colon + 1)));
    }
    return out;
}

std::optional<std::int64_t> parse_date(std::string_view text) {
    if (text.size() > max_field_bytes) return std::nullopt;
    const std::string plain = strip_comments(text);
    Cursor c(plain);
    if (is_alpha(c.peek())) {
        if (name_index(c.alpha(), day_names) < 0) return std::nullopt;
        c.accept(',');
    }
    const auto day = c.number(2);
    const int month = name_index(c.alpha(), month_names);
    std::size_t year_digits = 0;
    const auto year_raw = c.number(4, &year_digits);
    const auto year = year_raw ? full_year(*year_raw, year_digits) : std::nullopt;
    const auto hour = c.number(2);
    const bool colon = c.accept(':');
    const auto minute = c.number(2);
    const auto second = c.accept(':') ? c.number(2) : std::optional<int>(0);
    const auto zone = parse_zone(c);
    if (!day || month < 0 || !year || !hour || !colon || !minute || !second || !zone) {
        return std::nullopt;
    }
    if (*hour > 23 || *minute > 59 || *second > 60) return std::nullopt;
    const std::chrono::year_month_day ymd{std::chrono::year{*year},
                                          std::chrono::month{static_cast<unsigned>(month + 1)},
                                          std::chrono::day{static_cast<unsigned>(*day)}};
    if (!ymd.ok()) return std::nullopt;
    const std::int64_t days = std::chrono::sys_days{ymd}.time_since_epoch().count();
    return days * 86400 + *hour * 3600 + *minute * 60 + *second - std::int64_t{*zone} * 60;
}

}  // namespace mailprobe::relay
