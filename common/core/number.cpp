#include "core/number.hpp"

#include <charconv>
#include <cmath>

namespace mailprobe {

std::string format_number(double value) {
    if (!std::isfinite(value)) return "U";
    if (value == 0) return "0";  // also folds -0
    char buf[512];               // fixed notation of DBL_MAX needs 316
    // Fixed notation with microsecond resolution: no exponent that a parser might reject.
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::fixed, 6);
    if (ec != std::errc()) return "U";
    std::string text(buf, end);
    if (text.find('.') != std::string::npos) {
        while (text.back() == '0') text.pop_back();
        if (text.back() == '.') text.pop_back();
    }
    return text == "-0" ? "0" : text;
}

std::optional<double> parse_number(std::string_view text) {
    if (text.empty()) return std::nullopt;
    if (text.front() == '+') {
        text.remove_prefix(1);
        if (text.empty() || text.front() == '+' || text.front() == '-') return std::nullopt;
    }
    double value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    // from_chars accepts "inf"/"nan": no threshold or option may hold those.
    if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value)) {
        return std::nullopt;
    }
    return value;
}

}  // namespace mailprobe
