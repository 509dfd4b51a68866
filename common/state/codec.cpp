// Text form of CheckState. Strict on reading: anything the writer would not have produced is
// reported as corruption rather than guessed at, so a damaged file is never half-trusted.
#include <algorithm>
#include <charconv>
#include <map>
#include <set>
#include <system_error>

#include "result/failure.hpp"
#include "state/model.hpp"

namespace mailprobe::state {

namespace {

constexpr std::string_view magic = "mailprobe-state";
constexpr char hex_digits[] = "0123456789ABCDEF";

bool needs_escape(unsigned char c) {
    return c < 0x20 || c == 0x7f || c == ' ' || c == '%' || c == '=';
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Bad input quoted in a message: escaped (one line) and bounded.
std::string quote(std::string_view raw) {
    std::string shown = escape_value(raw.substr(0, 60));
    if (raw.size() > 60) shown += "...";
    return "'" + shown + "'";
}

template <typename Int>
std::optional<Int> to_int(std::string_view text) {
    Int value{};
    const char* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (text.empty() || ec != std::errc() || ptr != end) return std::nullopt;
    return value;
}

std::vector<std::string_view> split(std::string_view text, char sep) {
    std::vector<std::string_view> parts;
    while (true) {
        auto pos = text.find(sep);
        parts.push_back(text.substr(0, pos));
        if (pos == std::string_view::npos) return parts;
        text.remove_prefix(pos + 1);
    }
}

class Parser {
public:
    explicit Parser(const std::string& path) : m_path(path) {}
    CheckState run(std::string_view text);

private:
    using Fields = std::map<std::string_view, std::string_view>;

    CheckFailure corrupt(const std::string& what) const {
        return unknown(m_path + ": corrupt state file: line " + std::to_string(m_line) + ": " +
                       what);
    }
    void check_header(std::string_view line) const;
    void record(std::string_view key, std::string_view rest);
    void once(std::string_view key);
    Fields fields(std::string_view key, std::string_view rest,
                  std::initializer_list<std::string_view> names) const;
    std::string text_value(std::string_view raw) const;
    template <typename Int>
    Int int_value(std::string_view what, std::string_view raw) const {
        auto value = to_int<Int>(raw);
        if (!value) throw corrupt("bad number for " + std::string(what) + ": " + quote(raw));
        return *value;
    }

    const std::string& m_path;
    std::size_t m_line = 0;
    CheckState m_state;
    std::set<std::string_view> m_seen_keys;
    std::set<std::string> m_probe_ids;
};

void Parser::check_header(std::string_view line) const {
    auto space = line.find(' ');
    if (line.substr(0, space) != magic || space == std::string_view::npos) {
        throw corrupt("not a mailprobe state file (expected '" + std::string(magic) + " " +
                      std::to_string(state_format_version) + "')");
    }
    auto version = to_int<int>(line.substr(space + 1));
    if (!version) throw corrupt("bad version " + quote(line.substr(space + 1)));
    if (*version != state_format_version) {
        throw unknown(m_path + ": unsupported state file version " + std::to_string(*version) +
                      " (this mailprobe reads version " + std::to_string(state_format_version) +
                      ")");
    }
}

void Parser::once(std::string_view key) {
    if (!m_seen_keys.insert(key).second) throw corrupt("duplicate '" + std::string(key) + "' line");
}

Parser::Fields Parser::fields(std::string_view key, std::string_view rest,
                              std::initializer_list<std::string_view> names) const {
    Fields found;
    for (std::string_view token : split(rest, ' ')) {
        if (token.empty()) continue;  // tolerate doubled spaces from hand edits
        auto eq = token.find('=');
        std::string_view name = token.substr(0, eq);
        if (eq == std::string_view::npos ||
            std::find(names.begin(), names.end(), name) == names.end())
            throw corrupt("unexpected field " + quote(eq == std::string_view::npos ? token : name) +
                          " in '" + std::string(key) + "'");
        if (!found.emplace(name, token.substr(eq + 1)).second)
            throw corrupt("duplicate field '" + std::string(name) + "' in '" + std::string(key) +
                          "'");
    }
    for (std::string_view name : names) {
        if (!found.contains(name))
            throw corrupt("missing field '" + std::string(name) + "' in '" + std::string(key) +
                          "'");
    }
    return found;
}

std::string Parser::text_value(std::string_view raw) const {
    auto value = unescape_value(raw);
    if (!value) throw corrupt("bad escape or control character in " + quote(raw));
    return *value;
}

void Parser::record(std::string_view key, std::string_view rest) {
    if (key == "identity") {
        once(key);
        m_state.identity = text_value(rest);
    } else if (key == "delivered_total" || key == "lost_total") {
        once(key);
        auto& total = key == "lost_total" ? m_state.lost_total : m_state.delivered_total;
        total = int_value<std::uint64_t>(key, rest);
    } else if (key == "last_delivery") {
        once(key);
        auto f = fields(key, rest, {"id", "sent", "seen", "delay_ms"});
        m_state.last_delivery =
            LastDelivery{text_value(f["id"]), int_value<std::int64_t>("sent", f["sent"]),
                         int_value<std::int64_t>("seen", f["seen"]),
                         int_value<std::int64_t>("delay_ms", f["delay_ms"])};
    } else if (key == "probe") {
        auto f = fields(key, rest, {"id", "sent", "via"});
        OutstandingProbe probe{text_value(f["id"]), int_value<std::int64_t>("sent", f["sent"]),
                               text_value(f["via"])};
        if (!m_probe_ids.insert(probe.id).second)
            throw corrupt("duplicate probe id " + quote(probe.id));
        m_state.outstanding.push_back(std::move(probe));
    } else {
        throw corrupt("unknown record " + quote(key));
    }
}

CheckState Parser::run(std::string_view text) {
    std::vector<std::string_view> lines = split(text, '\n');
    if (!text.empty() && text.back() == '\n') lines.pop_back();  // the final newline ends a line
    m_line = 1;
    if (text.empty()) throw corrupt("file is empty (truncated?)");
    check_header(lines.front());
    bool ended = false;
    for (m_line = 2; m_line <= lines.size(); ++m_line) {
        std::string_view line = lines[m_line - 1];
        if (line.empty()) continue;
        if (ended) throw corrupt("data after 'end'");
        auto space = line.find(' ');
        std::string_view key = line.substr(0, space);
        std::string_view rest = space == std::string_view::npos ? "" : line.substr(space + 1);
        if (key == "end") {
            if (space != std::string_view::npos) throw corrupt("unexpected text after 'end'");
            ended = true;
        } else {
            record(key, rest);
        }
    }
    if (!ended) throw corrupt("missing 'end' line (truncated?)");
    for (std::string_view required : {"identity", "delivered_total", "lost_total"}) {
        if (!m_seen_keys.contains(required))
            throw corrupt("missing '" + std::string(required) + "' line");
    }
    return std::move(m_state);
}

}  // namespace

std::string escape_value(std::string_view raw) {
    std::string out;
    out.reserve(raw.size());
    for (char ch : raw) {
        auto c = static_cast<unsigned char>(ch);
        if (needs_escape(c)) {
            out += '%';
            out += hex_digits[c >> 4];
            out += hex_digits[c & 0x0f];
        } else {
            out += ch;
        }
    }
    return out;
}

std::optional<std::string> unescape_value(std::string_view escaped) {
    std::string out;
    out.reserve(escaped.size());
    for (std::size_t i = 0; i < escaped.size(); ++i) {
        auto c = static_cast<unsigned char>(escaped[i]);
        if (c != '%') {
            if (needs_escape(c)) return std::nullopt;  // the writer never emits these raw
            out += escaped[i];
            continue;
        }
        if (i + 2 >= escaped.size()) return std::nullopt;
        int high = hex_value(escaped[i + 1]);
        int low = hex_value(escaped[i + 2]);
        if (high < 0 || low < 0) return std::nullopt;
        out += static_cast<char>(high * 16 + low);
        i += 2;
    }
    return out;
}

std::string serialize(const CheckState& state) {
    std::string out = std::string(magic) + " " + std::to_string(state_format_version) + "\n";
    out += "identity " + escape_value(state.identity) + "\n";
    out += "delivered_total " + std::to_string(state.delivered_total) + "\n";
    out += "lost_total " + std::to_string(state.lost_total) + "\n";
    if (const auto& last = state.last_delivery) {
        out += "last_delivery id=" + escape_value(last->id) +
               " sent=" + std::to_string(last->sent_ms) + " seen=" + std::to_string(last->seen_ms) +
               " delay_ms=" + std::to_string(last->delay_ms) + "\n";
    }
    for (const auto& probe : state.outstanding) {
        out += "probe id=" + escape_value(probe.id) + " sent=" + std::to_string(probe.sent_ms) +
               " via=" + escape_value(probe.via) + "\n";
    }
    out += "end\n";
    return out;
}

CheckState parse(std::string_view text, const std::string& path_for_messages) {
    return Parser(path_for_messages).run(text);
}

}  // namespace mailprobe::state
