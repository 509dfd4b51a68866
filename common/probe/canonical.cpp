#include "probe/canonical.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "relay/headers.hpp"

namespace mailprobe::probe {

namespace {

bool is_wsp(char c) {
    return c == ' ' || c == '\t';
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;  // RFC 2045 6.7: accept lowercase too
    return -1;
}

// Calls f(line, ended) for every line of text (split at LF, one CR before it dropped);
// `ended` says whether the line had a line break (the last one of cut-off input has not).
template <typename F>
void for_each_line(std::string_view text, F f) {
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t nl = text.find('\n', pos);
        bool ended = nl != std::string_view::npos;
        std::size_t end = ended ? nl : text.size();
        std::string_view line = text.substr(pos, end - pos);
        if (ended && !line.empty() && line.back() == '\r') line.remove_suffix(1);
        f(line, ended);
        pos = ended ? nl + 1 : text.size();
    }
}

// Appends `text` with every run of whitespace (CR and LF count as such in a field
// value) made one space, and none at the end.
void append_compressed(std::string& out, std::string_view text) {
    bool space = false;
    for (char c : text) {
        if (is_wsp(c) || c == '\r' || c == '\n') {
            space = true;
            continue;
        }
        if (space) out += ' ';
        space = false;
        out += c;
    }
}

// The body: everything after the first empty line; empty when there is none.
std::string_view body_of(std::string_view message) {
    std::size_t pos = 0;
    while (pos < message.size()) {
        std::size_t nl = message.find('\n', pos);
        if (nl == std::string_view::npos) return {};
        std::string_view line = message.substr(pos, nl - pos);
        if (line.empty() || line == "\r") return message.substr(nl + 1);
        pos = nl + 1;
    }
    return {};
}

}  // namespace

std::optional<std::string> canonical_field(std::string_view message, std::string_view name) {
    auto values = relay::header_values(message, name, 2);
    if (values.size() != 1) return std::nullopt;
    std::string out;
    for (char c : name) out += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    out += ':';
    append_compressed(out, values.front());
    out += "\r\n";
    return out;
}

std::string decode_quoted_printable(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for_each_line(text, [&](std::string_view line, bool ended) {
        // Trailing whitespace was possibly added in transport: it is not data (6.7 rule 3).
        while (!line.empty() && is_wsp(line.back())) line.remove_suffix(1);
        bool soft = !line.empty() && line.back() == '=';
        if (soft) line.remove_suffix(1);
        for (std::size_t i = 0; i < line.size(); ++i) {
            int hi = line[i] == '=' && i + 2 < line.size() ? hex_value(line[i + 1]) : -1;
            int lo = hi >= 0 ? hex_value(line[i + 2]) : -1;
            if (lo >= 0) {
                out += static_cast<char>(hi * 16 + lo);
                i += 2;
            } else {
                out += line[i];  // a stray "=" is kept as it is (6.7, note 1)
            }
        }
        if (ended && !soft) out += "\r\n";
    });
    return out;
}

std::optional<std::string> decode_base64(std::string_view text) {
    std::string groups;
    groups.reserve(text.size());
    for (char c : text) {
        bool alphabet = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                        (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '=';
        if (alphabet) {
            groups += c;
        } else if (!is_wsp(c) && c != '\r' && c != '\n') {
            return std::nullopt;
        }
    }
    // An incomplete last group (a fetch cut short) is not data.
    groups.resize(groups.size() / 4 * 4);
    if (groups.size() > (1u << 30)) return std::nullopt;  // EVP takes an int length
    std::unique_ptr<EVP_ENCODE_CTX, decltype(&EVP_ENCODE_CTX_free)> ctx(EVP_ENCODE_CTX_new(),
                                                                        &EVP_ENCODE_CTX_free);
    if (!ctx) return std::nullopt;
    EVP_DecodeInit(ctx.get());
    std::vector<unsigned char> out(groups.size() / 4 * 3 + 80);
    int len = 0, last = 0;
    if (EVP_DecodeUpdate(ctx.get(), out.data(), &len,
                         reinterpret_cast<const unsigned char*>(groups.data()),
                         static_cast<int>(groups.size())) < 0 ||
        EVP_DecodeFinal(ctx.get(), out.data() + len, &last) < 0) {
        return std::nullopt;
    }
    return std::string(reinterpret_cast<const char*>(out.data()),
                       static_cast<std::size_t>(len + last));
}

std::string canonical_text(std::string_view decoded) {
    std::string out;
    out.reserve(decoded.size());
    std::size_t empty_lines = 0;  // held back: empty lines at the end do not count
    std::string line_out;
    for_each_line(decoded, [&](std::string_view line, bool) {
        line_out.clear();
        bool space = false;
        for (char c : line) {
            if (is_wsp(c)) {
                space = true;
                continue;
            }
            if (space) line_out += ' ';
            space = false;
            line_out += c;
        }
        if (line_out.empty()) {
            ++empty_lines;
            return;
        }
        for (; empty_lines > 0; --empty_lines) out += "\r\n";
        out += line_out;
        out += "\r\n";
    });
    return out;
}

std::optional<std::string> canonical_body(std::string_view message) {
    auto encodings = relay::header_values(message, "Content-Transfer-Encoding", 2);
    if (encodings.size() > 1) return std::nullopt;
    std::string encoding;
    if (!encodings.empty()) append_compressed(encoding, encodings.front());
    std::transform(encoding.begin(), encoding.end(), encoding.begin(),
                   [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; });
    std::string_view body = body_of(message);
    if (encoding.empty() || encoding == "7bit" || encoding == "8bit" || encoding == "binary") {
        return canonical_text(body);
    }
    if (encoding == "quoted-printable") return canonical_text(decode_quoted_printable(body));
    if (encoding == "base64") {
        auto decoded = decode_base64(body);
        if (!decoded) return std::nullopt;
        return canonical_text(*decoded);
    }
    return std::nullopt;
}

}  // namespace mailprobe::probe
