#include "output/sanitize.hpp"

namespace mailprobe {

// Length of a valid UTF-8 sequence starting at i, or 0 when invalid.
static std::size_t utf8_length(std::string_view s, std::size_t i) {
    auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    unsigned char c = byte(i);
    std::size_t n = c < 0x80           ? 1
                    : (c >> 5) == 0x6  ? 2
                    : (c >> 4) == 0xe  ? 3
                    : (c >> 3) == 0x1e ? 4
                                       : 0;
    if (n == 0 || i + n > s.size()) return 0;
    for (std::size_t k = 1; k < n; ++k) {
        if ((byte(i + k) & 0xc0) != 0x80) return 0;
    }
    return n;
}

std::string sanitize_text(std::string_view text, std::size_t max_len) {
    std::string out;
    out.reserve(std::min(text.size(), max_len + 4));
    bool last_space = true;  // also trims leading whitespace
    for (std::size_t i = 0; i < text.size() && out.size() < max_len;) {
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
    while (!out.empty() && out.back() == ' ') out.pop_back();
    if (out.size() >= max_len) out += "...";
    return out;
}

}  // namespace mailprobe
