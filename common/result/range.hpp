#pragma once
// Nagios threshold ranges (monitoring-plugins guidelines, "Threshold and ranges").
#include <optional>
#include <string>
#include <string_view>

#include "core/number.hpp"
#include "result/status.hpp"

namespace mailprobe {

class Range {
public:
    // Parses "10", "10:", "~:10", "10:20", "@10:20" (decimals and negatives allowed).
    // Throws UsageError naming the text when it is malformed.
    static Range parse(std::string_view text);

    // True when the value lies where an alert is raised.
    bool alerts(double value) const;
    // The range as the user gave it, for perfdata.
    const std::string& text() const { return m_text; }

private:
    double m_low = 0;
    double m_high = 0;
    bool m_low_infinite = false;
    bool m_high_infinite = true;
    bool m_inside = false;  // '@': alert inside the range instead of outside
    std::string m_text;
};

// A warning and a critical range applied to one value.
struct Thresholds {
    std::optional<Range> warning;
    std::optional<Range> critical;

    Status evaluate(double value) const;
};

}  // namespace mailprobe
