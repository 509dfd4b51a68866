#include "relay/received.hpp"

#include <array>
#include <cstdio>

namespace mailprobe::relay {
namespace {

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

// A word (run of non-space bytes) or a whole, possibly nested, comment.
struct Token {
    std::string_view text;
    bool comment = false;
};

std::vector<Token> tokenize(std::string_view s) {
    std::vector<Token> tokens;
    for (std::size_t i = 0; i < s.size();) {
        if (is_space(s[i])) {
            ++i;
        } else if (s[i] == '(') {
            const std::size_t end = comment_end(s, i);
            tokens.push_back({s.substr(i, end - i), true});
            i = end;
        } else {
            const std::size_t start = i;
            while (i < s.size() && !is_space(s[i]) && s[i] != '(') ++i;
            tokens.push_back({s.substr(start, i - start), false});
        }
    }
    return tokens;
}

// Top-level ';' positions, last first (at most `limit`): a ';' inside a comment is not a
// date separator.
std::vector<std::size_t> top_level_semicolons(std::string_view s, std::size_t limit) {
    std::vector<std::size_t> found;
    for (std::size_t i = 0; i < s.size();) {
        if (s[i] == '(') {
            i = comment_end(s, i);
            continue;
        }
        if (s[i] == ';') found.push_back(i);
        ++i;
    }
    std::vector<std::size_t> last;
    for (auto it = found.rbegin(); it != found.rend() && last.size() < limit; ++it) {
        last.push_back(*it);
    }
    return last;
}

enum Clause : std::size_t { c_from, c_by, c_via, c_with, c_id, c_for, clause_count };
constexpr std::array<std::string_view, clause_count> keywords{"from", "by", "via",
                                                              "with", "id", "for"};
constexpr std::size_t no_clause = clause_count;

struct Part {
    std::string value;
    std::string detail;
    bool seen = false;
    bool has_value = false;
};

std::size_t keyword_index(const Token& token) {
    if (token.comment) return no_clause;
    for (std::size_t k = 0; k < clause_count; ++k) {
        if (iequals(token.text, keywords[k])) return k;
    }
    return no_clause;
}

void append_detail(std::string& detail, std::string_view text) {
    if (!detail.empty()) detail += ' ';
    detail += text;
}

// Splits the tokens into clauses: a keyword opens its clause, the first word after it is the
// value and everything else up to the next keyword is detail. Words before any keyword and
// repeated clauses are dropped: the first occurrence wins.
std::array<Part, clause_count> split_clauses(const std::vector<Token>& tokens) {
    std::array<Part, clause_count> parts;
    std::size_t current = no_clause;
    bool dropping = true;
    for (const Token& token : tokens) {
        const std::size_t k = keyword_index(token);
        if (k != no_clause) {
            dropping = parts[k].seen;
            parts[k].seen = true;
            current = k;
            continue;
        }
        if (dropping || current == no_clause) continue;
        Part& part = parts[current];
        if (!token.comment && !part.has_value) {
            part.value = std::string(token.text);
            part.has_value = true;
        } else {
            append_detail(part.detail, token.text);
        }
    }
    return parts;
}

std::string strip_angles(std::string_view s) {
    if (!s.empty() && s.front() == '<') s.remove_prefix(1);
    if (!s.empty() && s.back() == '>') s.remove_suffix(1);
    return std::string(s);
}

// Host names in output: bounded length, no control bytes and no perfdata separator.
std::string printable_host(std::string_view host) {
    constexpr std::size_t max_len = 255;
    if (host.empty()) return "?";
    std::string out(host.substr(0, max_len));
    for (char& c : out) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f || c == '|') c = '?';
    }
    if (host.size() > max_len) out += "...";
    return out;
}

std::string describe_delay(const Hop& hop) {
    if (!hop.time_known) return " (? s)";
    char buf[64];
    std::snprintf(buf, sizeof buf, " (%.1f s%s)", hop.delay_s, hop.skewed ? ", clock skew" : "");
    return buf;
}

}  // namespace

std::optional<Received> parse_received(std::string_view unfolded_value) {
    if (unfolded_value.size() > max_field_bytes) return std::nullopt;
    std::string_view clauses = unfolded_value;
    Received r;
    // The date follows the last ';'. Should that not parse, a few earlier ones are tried, so
    // trailing garbage containing a ';' does not cost the date.
    const auto semis = top_level_semicolons(unfolded_value, 4);
    for (const std::size_t semi : semis) {
        r.time = parse_date(unfolded_value.substr(semi + 1));
        if (r.time) {
            clauses = unfolded_value.substr(0, semi);
            break;
        }
    }
    if (!r.time && !semis.empty()) clauses = unfolded_value.substr(0, semis.front());
    auto parts = split_clauses(tokenize(clauses));
    bool any_clause = false;
    for (const Part& p : parts) any_clause = any_clause || p.seen;
    if (!any_clause && !r.time) return std::nullopt;
    r.from = std::move(parts[c_from].value);
    r.from_detail = std::move(parts[c_from].detail);
    r.by = std::move(parts[c_by].value);
    r.by_detail = std::move(parts[c_by].detail);
    r.via = std::move(parts[c_via].value);
    r.with = std::move(parts[c_with].value);
    r.with_detail = std::move(parts[c_with].detail);
    r.id = strip_angles(parts[c_id].value);
    r.for_addr = strip_angles(parts[c_for].value);
    r.tls = detect_tls(clauses, r.with);
    return r;
}

std::vector<Hop> received_path(std::string_view header_block) {
    const auto values = header_values(header_block, "Received", max_received_fields);
    std::vector<Hop> hops;
    hops.reserve(values.size());
    for (auto it = values.rbegin(); it != values.rend(); ++it) {
        auto parsed = parse_received(*it);
        if (!parsed) continue;
        Hop hop;
        hop.received = std::move(*parsed);
        hop.time_known = hop.received.time.has_value();
        hops.push_back(std::move(hop));
    }
    // Measure from the last hop that had a time, so one undated hop does not lose the delay.
    std::optional<std::int64_t> previous;
    for (Hop& hop : hops) {
        if (!hop.time_known) continue;
        const std::int64_t now = *hop.received.time;
        if (previous) {
            const std::int64_t raw = now - *previous;
            hop.skewed = raw < 0;
            hop.delay_s = raw < 0 ? 0.0 : static_cast<double>(raw);
        }
        previous = now;
    }
    return hops;
}

std::string describe_path(const std::vector<Hop>& hops) {
    std::string out;
    if (hops.empty()) return out;
    if (!hops.front().received.from.empty()) {
        out = printable_host(hops.front().received.from) + " -> ";
    }
    for (std::size_t i = 0; i < hops.size(); ++i) {
        if (i > 0) out += " -> ";
        out += printable_host(hops[i].received.by);
        if (i > 0) out += describe_delay(hops[i]);
    }
    return out;
}

}  // namespace mailprobe::relay
