#include "relay/tls.hpp"

#include <algorithm>
#include <array>

#include "relay/headers.hpp"

namespace mailprobe::relay {
namespace {

char lower(char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

// Case-insensitive find; npos when absent.
std::size_t ifind(std::string_view hay, std::string_view needle, std::size_t from = 0) {
    if (needle.empty() || hay.size() < needle.size()) return std::string_view::npos;
    for (std::size_t i = from; i + needle.size() <= hay.size(); ++i) {
        std::size_t k = 0;
        while (k < needle.size() && lower(hay[i + k]) == lower(needle[k])) ++k;
        if (k == needle.size()) return i;
    }
    return std::string_view::npos;
}

bool word_end(char c) {
    return c == ' ' || c == '\t' || c == ',' || c == ')' || c == '(' || c == ';' || c == ':';
}

// The word starting at pos (up to a space, ',', ';', ':' or parenthesis).
std::string_view word_at(std::string_view s, std::size_t pos) {
    if (pos >= s.size()) return {};
    std::size_t end = pos;
    while (end < s.size() && !word_end(s[end])) ++end;
    return s.substr(pos, end - pos);
}

std::size_t skip_spaces(std::string_view s, std::size_t pos) {
    pos = std::min(pos, s.size());  // callers step past a word end that may be the string end
    while (pos < s.size() && (s[pos] == ' ' || s[pos] == '\t')) ++pos;
    return pos;
}

// Postfix smtpd_tls_received_header: "(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 ...".
bool postfix_note(std::string_view s, TlsInfo& out) {
    for (std::size_t at = ifind(s, "using "); at != std::string_view::npos;
         at = ifind(s, "using ", at + 1)) {
        const std::size_t v = skip_spaces(s, at + 6);
        const auto version = parse_tls_version(word_at(s, v));
        if (!version) continue;
        out.version = version;
        const std::size_t w = skip_spaces(s, v + word_at(s, v).size());
        if (ifind(s.substr(w, 12), "with cipher ") == 0) {
            out.cipher = std::string(word_at(s, skip_spaces(s, w + 12)));
        }
        return true;
    }
    return false;
}

// Exchange Online, Gmail, sendmail: "version=TLS1_2, cipher=..." / "version=TLS1_3 cipher=...".
bool version_cipher_note(std::string_view s, TlsInfo& out) {
    const std::size_t at = ifind(s, "version=");
    if (at == std::string_view::npos) return false;
    const auto version = parse_tls_version(word_at(s, at + 8));
    if (!version) return false;
    out.version = version;
    const std::size_t c = ifind(s, "cipher=", at);
    if (c != std::string_view::npos) out.cipher = std::string(word_at(s, c + 7));
    return true;
}

// Exim: "(TLS1.3) tls TLS_AES_256_GCM_SHA384" (4.9x) or
// "(TLS1.2:ECDHE_RSA_AES_256_GCM_SHA384:256)"; Exchange "(TLS)" gives encryption without a version.
bool exim_note(std::string_view s, TlsInfo& out) {
    for (const std::string_view open : {"(TLS", "(SSL"}) {
        for (std::size_t at = ifind(s, open); at != std::string_view::npos;
             at = ifind(s, open, at + 1)) {
            const std::string_view first = word_at(s, at + 1);
            if (relay::iequals(first, "TLS") && at + 4 < s.size() && s[at + 4] == ')') return true;
            const auto version = parse_tls_version(first);
            if (!version) continue;
            out.version = version;
            std::size_t after = at + 1 + first.size();
            if (after < s.size() && s[after] == ':') {
                out.cipher = std::string(word_at(s, after + 1));
            } else {
                const std::size_t t = skip_spaces(s, after + 1);
                if (ifind(s.substr(t, 4), "tls ") == 0)
                    out.cipher = std::string(word_at(s, skip_spaces(s, t + 4)));
            }
            return true;
        }
    }
    return false;
}

bool one_of(std::string_view word, std::initializer_list<std::string_view> list) {
    for (const auto w : list) {
        if (relay::iequals(word, w)) return true;
    }
    return false;
}

}  // namespace

std::optional<int> parse_tls_version(std::string_view text) {
    bool ssl = false;
    for (const std::string_view prefix : {"TLSv", "TLS", "SSLv", "SSL"}) {
        if (text.size() > prefix.size() && relay::iequals(text.substr(0, prefix.size()), prefix)) {
            ssl = prefix[0] == 'S';
            text.remove_prefix(prefix.size());
            break;
        }
    }
    const auto digit = [](char c) { return c >= '0' && c <= '9'; };
    // "1", "1.2" or "1_2": one major digit, optionally one minor digit.
    const bool major_only = text.size() == 1 && digit(text[0]);
    const bool with_minor =
        text.size() == 3 && digit(text[0]) && (text[1] == '.' || text[1] == '_') && digit(text[2]);
    if (!major_only && !with_minor) return std::nullopt;
    const int major = text[0] - '0';
    const int minor = with_minor ? text[2] - '0' : 0;
    if (ssl) return major <= 3 && minor == 0 ? std::optional<int>(major) : std::nullopt;
    if (major != 1 || minor > 3) return std::nullopt;
    return 10 + minor;
}

std::string tls_version_name(const std::optional<int>& version) {
    if (!version) return {};
    if (*version < 10) return "SSLv" + std::to_string(*version);
    return "TLSv1." + std::to_string(*version - 10);
}

TlsInfo detect_tls(std::string_view clauses, std::string_view with) {
    TlsInfo out;
    if (postfix_note(clauses, out) || version_cipher_note(clauses, out) ||
        exim_note(clauses, out) ||
        ifind(clauses, "(Google Transport Security)") != std::string_view::npos) {
        out.transport = Transport::tls;
        return out;
    }
    if (one_of(with, {"ESMTPS", "ESMTPSA", "LMTPS", "LMTPSA", "UTF8SMTPS", "UTF8SMTPSA",
                      "UTF8LMTPS", "UTF8LMTPSA", "SMTPS"})) {
        out.transport = Transport::tls;
    } else if (one_of(with, {"LMTP", "LMTPA", "UTF8LMTP", "UTF8LMTPA", "local"})) {
        out.transport = Transport::local;
    } else if (one_of(with, {"SMTP", "ESMTP", "ESMTPA", "UTF8SMTP", "UTF8SMTPA", "Microsoft"})) {
        out.transport = Transport::plain;
    }
    return out;
}

std::string describe_tls(const TlsInfo& tls) {
    switch (tls.transport) {
        case Transport::plain:
            return "no TLS";
        case Transport::local:
            return "local";
        case Transport::unknown:
            return "TLS unknown";
        case Transport::tls:
            break;
    }
    std::string out = tls.version ? tls_version_name(tls.version) : "TLS";
    if (!tls.cipher.empty()) {
        std::string cipher = tls.cipher.substr(0, 80);
        for (char& c : cipher) {
            const auto u = static_cast<unsigned char>(c);
            if (u < 0x20 || u == 0x7f || c == '|') c = '?';
        }
        out += ' ' + cipher;
    }
    return out;
}

}  // namespace mailprobe::relay
