#include "mailbox/mailbox_name.hpp"

#include <cstdint>
#include <vector>

namespace mailprobe::mailbox::imap {

namespace {

// RFC 3501 modified base64: ',' instead of '/', no padding.
constexpr std::string_view k_alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

int alphabet_index(char c) {
    auto at = k_alphabet.find(c);
    return at == std::string_view::npos ? -1 : static_cast<int>(at);
}

bool printable_ascii(char32_t c) {
    return c >= 0x20 && c <= 0x7e;
}

// Decodes one UTF-8 sequence at text[i]; advances i. nullopt when malformed.
std::optional<char32_t> next_code_point(std::string_view text, std::size_t& i) {
    auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
    unsigned char lead = byte(i);
    std::size_t extra = 0;
    if (lead >= 0xc2 && lead <= 0xdf) {
        extra = 1;
    } else if ((lead & 0xf0) == 0xe0) {
        extra = 2;
    } else if (lead >= 0xf0 && lead <= 0xf4) {
        extra = 3;
    } else if (lead >= 0x80) {
        return std::nullopt;
    }
    if (text.size() - i <= extra) return std::nullopt;
    char32_t cp = extra == 0 ? lead : lead & (0x3fu >> extra);
    for (std::size_t k = 1; k <= extra; ++k) {
        unsigned char cont = byte(i + k);
        if ((cont & 0xc0) != 0x80) return std::nullopt;
        cp = (cp << 6) | (cont & 0x3f);
    }
    static constexpr char32_t k_min[] = {0, 0x80, 0x800, 0x10000};
    if (cp < k_min[extra] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return std::nullopt;
    i += extra + 1;
    return cp;
}

void append_utf8(std::string& out, char32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xc0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xe0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
        out += static_cast<char>(0x80 | (cp & 0x3f));
    } else {
        out += static_cast<char>(0xf0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
        out += static_cast<char>(0x80 | (cp & 0x3f));
    }
}

// A run of non-printable-ASCII code points as "&<modified base64 of UTF-16BE>-".
std::string encode_run(const std::vector<char32_t>& run) {
    std::vector<std::uint8_t> bytes;
    auto unit = [&](std::uint32_t u) {
        bytes.push_back(static_cast<std::uint8_t>(u >> 8));
        bytes.push_back(static_cast<std::uint8_t>(u & 0xff));
    };
    for (char32_t cp : run) {
        if (cp >= 0x10000) {
            cp -= 0x10000;
            unit(0xd800 | (cp >> 10));
            unit(0xdc00 | (cp & 0x3ff));
        } else {
            unit(cp);
        }
    }
    std::string out = "&";
    std::uint32_t acc = 0;
    int bits = 0;
    for (auto b : bytes) {
        acc = (acc << 8) | b;
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out += k_alphabet[(acc >> bits) & 0x3f];
        }
    }
    if (bits > 0) out += k_alphabet[(acc << (6 - bits)) & 0x3f];
    return out + "-";
}

// The base64 between '&' and '-' back to code points appended to out as UTF-8.
bool decode_run(std::string_view b64, std::string& out) {
    std::vector<std::uint16_t> units;
    std::uint32_t acc = 0;
    int bits = 0;
    for (char c : b64) {
        int v = alphabet_index(c);
        if (v < 0) return false;
        acc = (acc << 6) | static_cast<std::uint32_t>(v);
        bits += 6;
        if (bits >= 16) {
            bits -= 16;
            units.push_back(static_cast<std::uint16_t>((acc >> bits) & 0xffff));
        }
    }
    // Leftover bits are padding: fewer than 6 and all zero.
    if (bits >= 6 || (acc & ((1u << bits) - 1)) != 0 || units.empty()) return false;
    for (std::size_t i = 0; i < units.size(); ++i) {
        char32_t u = units[i];
        if (u >= 0xd800 && u <= 0xdbff) {
            if (i + 1 == units.size() || units[i + 1] < 0xdc00 || units[i + 1] > 0xdfff) {
                return false;
            }
            u = 0x10000 + ((u - 0xd800) << 10) + (units[++i] - 0xdc00);
        } else if ((u >= 0xdc00 && u <= 0xdfff) || printable_ascii(u)) {
            return false;  // a lone low surrogate, or ASCII that must have been written directly
        }
        append_utf8(out, u);
    }
    return true;
}

}  // namespace

bool valid_utf8(std::string_view text) {
    for (std::size_t i = 0; i < text.size();) {
        if (!next_code_point(text, i)) return false;
    }
    return true;
}

std::string encode_mailbox_name(std::string_view utf8) {
    std::string out;
    std::vector<char32_t> run;
    auto flush = [&] {
        if (!run.empty()) out += encode_run(run);
        run.clear();
    };
    for (std::size_t i = 0; i < utf8.size();) {
        auto cp = next_code_point(utf8, i);
        if (!cp) {  // callers validate first; never emit a broken name
            ++i;
            cp = 0xfffd;
        }
        if (printable_ascii(*cp)) {
            flush();
            out += *cp == '&' ? std::string("&-") : std::string(1, static_cast<char>(*cp));
        } else {
            run.push_back(*cp);
        }
    }
    flush();
    return out;
}

std::optional<std::string> decode_mailbox_name(std::string_view mutf7) {
    std::string out;
    for (std::size_t i = 0; i < mutf7.size(); ++i) {
        char c = mutf7[i];
        if (!printable_ascii(static_cast<unsigned char>(c))) return std::nullopt;
        if (c != '&') {
            out += c;
            continue;
        }
        auto end = mutf7.find('-', i + 1);
        if (end == std::string_view::npos) return std::nullopt;
        if (end == i + 1) {
            out += '&';
        } else if (!decode_run(mutf7.substr(i + 1, end - i - 1), out)) {
            return std::nullopt;
        }
        i = end;
    }
    return out;
}

}  // namespace mailprobe::mailbox::imap
