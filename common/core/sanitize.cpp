#include "core/sanitize.hpp"

#include <cstdint>

namespace mailprobe {

// Length of a valid UTF-8 sequence starting at i, or 0 when invalid. Rejects overlong
// forms, surrogates and code points above U+10FFFF (RFC 3629).
static std::size_t utf8_length(std::string_view s, std::size_t i) {
    auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    unsigned char c = byte(i);
    if (c < 0x80) return 1;
    std::size_t n = (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    if (n == 0 || i + n > s.size()) return 0;
    std::uint32_t cp = c & (0x7fu >> n);
    for (std::size_t k = 1; k < n; ++k) {
        if ((byte(i + k) & 0xc0) != 0x80) return 0;
        cp = (cp << 6) | (byte(i + k) & 0x3fu);
    }
    static constexpr std::uint32_t min_for_length[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min_for_length[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
    return n;
}

std::string sanitize_text(std::string_view text, std::size_t max_len) {
    std::string out;
    out.reserve(std::min(text.size(), max_len + 4));
    bool last_space = true;  // also trims leading whitespace
    std::size_t i = 0;
    for (; i < text.size() && out.size() < max_len;) {
        std::size_t n = utf8_length(text, i);
        unsigned char c = static_cast<unsigned char>(text[i]);
        if (n == 0) {
            out += '?';
            last_space = false;
            ++i;
            continue;
        }
        if (n == 1 && (c < 0x20 || c == 0x7f || c == ' ')) {
            if (!last_space) out += ' ';
            last_space = true;
        } else if (c == '|') {
            out += '/';
            last_space = false;
        } else {
            out.append(text.substr(i, n));
            last_space = false;
        }
        i += n;
    }
    bool cut = false;
    for (std::size_t k = i; k < text.size() && !cut; ++k) {
        unsigned char c = static_cast<unsigned char>(text[k]);
        cut = !(c < 0x20 || c == 0x7f || c == ' ');  // only whitespace left is no loss
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    if (cut) out += "...";
    return out;
}

}  // namespace mailprobe
