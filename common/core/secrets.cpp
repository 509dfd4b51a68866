#include "core/secrets.hpp"

#include <mutex>
#include <vector>

#include "core/base64.hpp"

namespace mailprobe::secrets {

namespace {
constexpr std::string_view k_mask = "********";
std::mutex g_mutex;
std::vector<std::string> g_needles;

void add(std::string needle) {
    // Very short needles would scrub ordinary words; secrets that short are not worth hiding
    // at the cost of garbling output, and base64 padding makes them longer anyway.
    if (needle.size() >= 4) g_needles.push_back(std::move(needle));
}
}  // namespace

void register_secret(std::string_view secret) {
    if (secret.empty()) return;
    std::lock_guard lock(g_mutex);
    add(std::string(secret));
    // The secret's base64 at each of the three alignments it can have inside a longer
    // encoded blob (AUTH PLAIN encodes "\0user\0password").
    for (std::size_t shift = 0; shift < 3; ++shift) {
        std::string enc = base64_encode(std::string(shift, '\0') + std::string(secret));
        // Only the characters whose six bits all come from the secret are stable.
        std::size_t first = (8 * shift + 5) / 6;
        std::size_t last = (8 * (shift + secret.size())) / 6;  // exclusive
        if (last > first + 3) add(enc.substr(first, last - first));
    }
}

std::string scrub(std::string text) {
    std::lock_guard lock(g_mutex);
    for (const auto& needle : g_needles) {
        // Continue after the mask: a secret the mask itself contains ("****") would
        // otherwise be found in it again, forever.
        for (auto pos = text.find(needle); pos != std::string::npos;
             pos = text.find(needle, pos + k_mask.size())) {
            text.replace(pos, needle.size(), k_mask);
        }
    }
    return text;
}

void clear() {
    std::lock_guard lock(g_mutex);
    g_needles.clear();
}

}  // namespace mailprobe::secrets
