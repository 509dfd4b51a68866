#pragma once
// Numbers as text, the same in every locale: what perfdata, ranges and options read and write.
#include <optional>
#include <string>
#include <string_view>

namespace mailprobe {

// Locale-independent, never "inf"/"nan" (non-finite values print as "U", undetermined).
std::string format_number(double value);
// Parses a decimal number independent of the locale; nullopt when it is not one.
std::optional<double> parse_number(std::string_view text);

}  // namespace mailprobe
