#include "probe/subject.hpp"

#include <vector>

#include "core/base64.hpp"

namespace mailprobe::probe {

namespace {

// RFC 2047 2: a line with an encoded word is at most 76 characters; 36 bytes make a
// 60-character word ("=?UTF-8?B?" + 48 + "?="), which fits after "Subject: ".
constexpr std::size_t k_encoded_line = 76;
constexpr std::size_t k_plain_line = 78;
constexpr std::size_t k_chunk_bytes = 36;
constexpr std::size_t k_longest_plain_word = 900;  // "Subject: " + this stays under 998

bool plain_safe(std::string_view text) {
    std::size_t word = 0;
    for (char ch : text) {
        auto c = static_cast<unsigned char>(ch);
        if (c < 0x20 || c > 0x7e) return false;
        word = c == ' ' ? 0 : word + 1;
        if (word > k_longest_plain_word) return false;
    }
    // "=?" would make a mail reader look for an encoded word in plain text.
    return text.find("=?") == std::string_view::npos;
}

std::string encoded_word(std::string_view bytes) {
    return "=?UTF-8?B?" + base64_encode(bytes) + "?=";
}

// Encoded words of at most k_chunk_bytes each, never splitting a UTF-8 sequence
// (RFC 2047 5: each word holds whole characters).
std::vector<std::string> encoded_words(std::string_view text) {
    std::vector<std::string> words;
    while (!text.empty()) {
        std::size_t n = std::min(k_chunk_bytes, text.size());
        while (n < text.size() && n > k_chunk_bytes - 3 &&
               (static_cast<unsigned char>(text[n]) & 0xc0) == 0x80) {
            --n;
        }
        words.push_back(encoded_word(text.substr(0, n)));
        text.remove_prefix(n);
    }
    return words;
}

std::vector<std::string> split_spaces(std::string_view text) {
    std::vector<std::string> words;
    std::size_t pos = 0;
    for (;;) {
        std::size_t sp = text.find(' ', pos);
        words.emplace_back(text.substr(pos, sp == std::string_view::npos ? sp : sp - pos));
        if (sp == std::string_view::npos) return words;
        pos = sp + 1;
    }
}

// Joins words with single spaces, breaking the line before a word that would pass `limit`.
// An empty word (two spaces in a row) never starts a line: a folded line must not be
// whitespace only.
std::string fold(const std::vector<std::string>& words, std::size_t limit) {
    std::string out = "Subject:";
    std::size_t line = out.size();
    bool has_word = false;  // on this line: never fold right after "Subject:" or a fold
    for (const auto& w : words) {
        if (!w.empty() && has_word && line + 1 + w.size() > limit) {
            out += "\r\n";
            line = 0;
            has_word = false;
        }
        out += ' ' + w;
        line += 1 + w.size();
        has_word = has_word || !w.empty();
    }
    return out + "\r\n";
}

}  // namespace

std::string subject_field(std::string_view prefix, std::string_view id) {
    std::string bracketed = "[" + std::string(prefix) + "]";
    if (plain_safe(bracketed)) {
        auto words = split_spaces(bracketed);
        words.insert(words.end(), {"probe", std::string(id)});
        return fold(words, k_plain_line);
    }
    auto words = encoded_words(bracketed);
    words.insert(words.end(), {"probe", std::string(id)});
    return fold(words, k_encoded_line);
}

}  // namespace mailprobe::probe
