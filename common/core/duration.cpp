#include "core/duration.hpp"

#include <charconv>
#include <cmath>
#include <cstdint>

namespace mailprobe {

namespace {

// to_chars: the monitoring system's locale must not turn the point into a comma.
std::string with_decimal(double value, const char* unit) {
    char buf[64];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::fixed, 1);
    if (ec != std::errc()) return "unknown time";
    return std::string(buf, end) + " " + unit;
}

// Whole seconds from 10 s up: "42 s", "2 min 5 s", "1 h 5 min", "2 d 3 h".
std::string whole_seconds(std::int64_t s) {
    auto pair = [](std::int64_t big, const char* big_unit, std::int64_t small,
                   const char* small_unit) {
        std::string out = std::to_string(big) + " " + big_unit;
        if (small > 0) out += " " + std::to_string(small) + " " + small_unit;
        return out;
    };
    if (s < 60) return std::to_string(s) + " s";
    if (s < 3600) return pair(s / 60, "min", s % 60, "s");
    if (s < 86400) return pair(s / 3600, "h", s % 3600 / 60, "min");
    return pair(s / 86400, "d", s % 86400 / 3600, "h");
}

}  // namespace

std::string human_duration(double seconds) {
    if (!std::isfinite(seconds)) return "unknown time";
    if (seconds < 0) {
        std::string out = human_duration(-seconds);
        return out == "0 s" ? out : "-" + out;
    }
    // Each branch rounds first and compares the rounded value, so 0.9996 s becomes "1.0 s",
    // never "1000 ms".
    double tenth_ms = std::round(seconds * 10000) / 10;
    if (tenth_ms < 10) return tenth_ms == 0 ? "0 s" : with_decimal(tenth_ms, "ms");
    double ms = std::round(seconds * 1000);
    if (ms < 1000) return std::to_string(static_cast<int>(ms)) + " ms";
    // A whole number of seconds is a configured time (-t 3, --wait 2): "3 s", not "3.0 s".
    if (seconds < 10 && seconds != std::floor(seconds)) {
        double tenth_s = std::round(seconds * 10) / 10;
        if (tenth_s < 10) return with_decimal(tenth_s, "s");
    }
    if (seconds > 1e12) return "over 30000 years";
    return whole_seconds(std::llround(seconds));
}

}  // namespace mailprobe
