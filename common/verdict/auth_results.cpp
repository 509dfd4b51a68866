#include "verdict/auth_results.hpp"

#include <algorithm>
#include <array>

#include "relay/headers.hpp"

namespace mailprobe::verdict {
namespace {

enum class Kind { atom, quoted, comment, semicolon, equals };

struct Token {
    Kind kind;
    std::string text;  // atom text, quoted content, or comment content without parentheses
};

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

char lower(char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string to_lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), lower);
    return out;
}

// Quoted string starting at s[open] == '"'; returns the index after the closing quote.
std::size_t read_quoted(std::string_view s, std::size_t open, std::string& out) {
    for (std::size_t i = open + 1; i < s.size(); ++i) {
        if (s[i] == '\\' && i + 1 < s.size()) {
            out += s[++i];
        } else if (s[i] == '"') {
            return i + 1;
        } else {
            out += s[i];
        }
    }
    return s.size();
}

// CFWS-aware lexing: comments may appear between any two tokens (Gmail puts them between a
// result and its properties), '.' and '/' stay inside atoms and are split later.
std::vector<Token> lex(std::string_view s) {
    std::vector<Token> tokens;
    for (std::size_t i = 0; i < s.size();) {
        const char c = s[i];
        if (is_space(c)) {
            ++i;
        } else if (c == '(') {
            const std::size_t end = relay::comment_end(s, i);
            const std::size_t inner_end = end > i + 1 && s[end - 1] == ')' ? end - 1 : end;
            tokens.push_back({Kind::comment, std::string(s.substr(i + 1, inner_end - i - 1))});
            i = end;
        } else if (c == '"') {
            Token t{Kind::quoted, {}};
            i = read_quoted(s, i, t.text);
            tokens.push_back(std::move(t));
        } else if (c == ';' || c == '=') {
            tokens.push_back({c == ';' ? Kind::semicolon : Kind::equals, {}});
            ++i;
        } else {
            const std::size_t start = i;
            while (i < s.size() && !is_space(s[i]) && s[i] != '(' && s[i] != '"' && s[i] != ';' &&
                   s[i] != '=')
                ++i;
            tokens.push_back({Kind::atom, std::string(s.substr(start, i - start))});
        }
    }
    return tokens;
}

bool is_value(const Token& t) {
    return t.kind == Kind::atom || t.kind == Kind::quoted;
}

// A cursor over the tokens that can look past comments.
class Tokens {
public:
    explicit Tokens(std::vector<Token> tokens) : m_t(std::move(tokens)) {}
    bool done() const { return m_pos >= m_t.size(); }
    const Token& at(std::size_t i) const { return m_t[i]; }
    std::size_t pos() const { return m_pos; }
    void seek(std::size_t pos) { m_pos = pos; }
    std::size_t size() const { return m_t.size(); }
    // Index of the next non-comment token at or after `from`, or size().
    std::size_t next_solid(std::size_t from) const {
        while (from < m_t.size() && m_t[from].kind == Kind::comment) ++from;
        return from;
    }
    bool solid_is(std::size_t from, Kind kind) const {
        const std::size_t i = next_solid(from);
        return i < m_t.size() && m_t[i].kind == kind;
    }

private:
    std::vector<Token> m_t;
    std::size_t m_pos = 0;
};

// ARC's leading "i=N;" (RFC 8617 4.1.1).
void read_arc_instance(Tokens& t, AuthResults& out) {
    const std::size_t i = t.next_solid(t.pos());
    if (i + 2 >= t.size() || t.at(i).kind != Kind::atom || !relay::iequals(t.at(i).text, "i") ||
        t.at(i + 1).kind != Kind::equals || !is_value(t.at(i + 2)))
        return;
    const std::string& n = t.at(i + 2).text;
    if (n.size() <= 3 && !n.empty() &&
        std::all_of(n.begin(), n.end(), [](char c) { return c >= '0' && c <= '9'; }))
        out.arc_instance = std::stoi(n);
    std::size_t after = i + 3;
    if (t.solid_is(after, Kind::semicolon)) after = t.next_solid(after) + 1;
    t.seek(after);
}

// The authserv-id and optional version; Microsoft 365 starts directly with "spf=...".
void read_authserv_id(Tokens& t, AuthResults& out) {
    const std::size_t i = t.next_solid(t.pos());
    if (i >= t.size() || !is_value(t.at(i)) || t.solid_is(i + 1, Kind::equals)) return;
    out.authserv_id = t.at(i).text;
    std::size_t after = i + 1;
    const std::size_t v = t.next_solid(after);
    if (v < t.size() && t.at(v).kind == Kind::atom && !t.at(v).text.empty() &&
        std::all_of(t.at(v).text.begin(), t.at(v).text.end(),
                    [](char c) { return c >= '0' && c <= '9'; }) &&
        !t.solid_is(v + 1, Kind::equals))
        after = v + 1;
    t.seek(after);
}

// One resinfo: tokens [begin, end) between semicolons.
std::optional<MethodResult> read_resinfo(const Tokens& t, std::size_t begin, std::size_t end) {
    std::size_t i = t.next_solid(begin);
    if (i + 2 >= end || t.at(i).kind != Kind::atom) return std::nullopt;
    const std::size_t eq = t.next_solid(i + 1);
    const std::size_t res = t.next_solid(eq + 1);
    if (eq >= end || res >= end || t.at(eq).kind != Kind::equals || !is_value(t.at(res)))
        return std::nullopt;
    MethodResult r;
    std::string method = t.at(i).text;
    if (method.find('.') != std::string::npos) return std::nullopt;  // a stray property
    method = method.substr(0, method.find('/'));
    r.method = to_lower(method);
    r.result = to_lower(t.at(res).text);
    if (r.method.empty() || r.result.empty()) return std::nullopt;
    bool after_result = true;
    for (std::size_t k = res + 1; k < end;) {
        const Token& tok = t.at(k);
        if (tok.kind == Kind::comment) {
            if (after_result && r.comment.empty()) r.comment = tok.text;
            ++k;
            continue;
        }
        after_result = false;
        const std::size_t e = t.next_solid(k + 1);
        const std::size_t v = e < end ? t.next_solid(e + 1) : end;
        if (is_value(tok) && e < end && t.at(e).kind == Kind::equals && v < end &&
            is_value(t.at(v))) {
            if (relay::iequals(tok.text, "reason")) {
                r.reason = t.at(v).text;
            } else {
                r.properties.push_back({to_lower(tok.text), t.at(v).text});
            }
            k = v + 1;
        } else {
            ++k;  // anything else (a stray word) is skipped
        }
    }
    return r;
}

constexpr std::array<std::string_view, 4> verdict_methods{"spf", "dkim", "dmarc", "arc"};

std::string printable(std::string_view s, std::size_t max_len) {
    std::string out(s.substr(0, max_len));
    for (char& c : out) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f || c == '|') c = '?';
    }
    if (s.size() > max_len) out += "...";
    return out;
}

}  // namespace

std::string MethodResult::property(std::string_view name) const {
    for (const auto& p : properties) {
        if (relay::iequals(p.name, name)) return p.value;
    }
    return {};
}

std::optional<AuthResults> parse_auth_results(std::string_view unfolded_value, bool arc) {
    if (unfolded_value.size() > relay::max_field_bytes) return std::nullopt;
    Tokens t(lex(unfolded_value));
    AuthResults out;
    out.arc = arc;
    if (arc) read_arc_instance(t, out);
    read_authserv_id(t, out);
    std::size_t begin = t.pos();
    for (std::size_t k = begin; k <= t.size(); ++k) {
        if (k < t.size() && t.at(k).kind != Kind::semicolon) continue;
        if (out.results.size() >= max_results_per_field) break;
        if (auto r = read_resinfo(t, begin, k)) out.results.push_back(std::move(*r));
        begin = k + 1;
    }
    if (out.authserv_id.empty() && out.results.empty()) return std::nullopt;
    return out;
}

std::vector<AuthResults> auth_results_fields(std::string_view header_block) {
    std::vector<AuthResults> out;
    for (const bool arc : {false, true}) {
        const auto name = arc ? "ARC-Authentication-Results" : "Authentication-Results";
        for (const auto& v : relay::header_values(header_block, name, max_auth_fields)) {
            if (auto parsed = parse_auth_results(v, arc)) out.push_back(std::move(*parsed));
        }
    }
    return out;
}

const MethodVerdict& AuthVerdicts::get(std::string_view method) const {
    for (const auto& m : methods) {
        if (m.method == method) return m;
    }
    static const MethodVerdict none{"", "absent", "", ""};
    return none;
}

AuthVerdicts evaluate_auth(std::string_view header_block,
                           const std::vector<std::string>& authserv_ids) {
    AuthVerdicts v;
    v.topmost_only = authserv_ids.empty();
    std::vector<AuthResults> trusted;
    for (auto& f : auth_results_fields(header_block)) {
        if (f.arc) continue;
        ++v.fields_seen;
        const bool listed =
            std::any_of(authserv_ids.begin(), authserv_ids.end(),
                        [&](const auto& id) { return relay::iequals(id, f.authserv_id); });
        if (v.topmost_only ? v.fields_seen == 1 : listed) trusted.push_back(std::move(f));
    }
    v.fields_trusted = trusted.size();
    for (const auto method : verdict_methods) {
        MethodVerdict m{std::string(method), "absent", "", ""};
        for (const auto& field : trusted) {
            const MethodResult* chosen = nullptr;
            for (const auto& r : field.results) {
                if (r.method != method) continue;
                if (chosen == nullptr || (r.result == "pass" && chosen->result != "pass"))
                    chosen = &r;
            }
            if (chosen == nullptr) continue;
            m.result = chosen->result;
            m.explanation = chosen->reason.empty() ? chosen->comment : chosen->reason;
            m.authserv_id = field.authserv_id;
            break;
        }
        v.methods.push_back(std::move(m));
    }
    return v;
}

std::string describe(const MethodVerdict& verdict) {
    std::string out = to_lower(verdict.method);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c; });
    out += ' ' + printable(verdict.result, 40);
    if (!verdict.explanation.empty()) out += " (" + printable(verdict.explanation, 160) + ")";
    if (!verdict.authserv_id.empty()) out += " at " + printable(verdict.authserv_id, 120);
    return out;
}

}  // namespace mailprobe::verdict
