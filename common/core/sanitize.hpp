#pragma once
// Server text and other foreign strings made safe for a status line.
#include <string>
#include <string_view>

namespace mailprobe {

// Replaces '|' (perfdata separator), control characters and invalid UTF-8 with safe
// characters, folds whitespace runs and caps the length (appending "...").
std::string sanitize_text(std::string_view text, std::size_t max_len = 300);

}  // namespace mailprobe
