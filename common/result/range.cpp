#include "result/range.hpp"

#include <charconv>
#include <cmath>

#include "core/error.hpp"

namespace mailprobe {

Range Range::parse(std::string_view text) {
    Range r;
    r.m_text = std::string(text);
    const std::string original = r.m_text;
    auto fail = [&](const char* why) {
        return UsageError("invalid range '" + original + "': " + why);
    };
    if (text.empty()) throw fail("empty");
    if (text.front() == '@') {
        r.m_inside = true;
        text.remove_prefix(1);
    }
    auto colon = text.find(':');
    std::string_view low = colon == std::string_view::npos ? "" : text.substr(0, colon);
    std::string_view high = colon == std::string_view::npos ? text : text.substr(colon + 1);
    if (colon != std::string_view::npos && high.find(':') != std::string_view::npos) {
        throw fail("more than one ':'");
    }
    if (colon != std::string_view::npos && (low.empty() || low == "~") && high.empty()) {
        throw fail("a range without bounds never alerts");
    }
    if (low == "~") {
        r.m_low_infinite = true;
    } else if (!low.empty()) {
        auto v = parse_number(low);
        if (!v) throw fail("start is not a number");
        r.m_low = *v;
    }
    if (high.empty()) {
        if (colon == std::string_view::npos) throw fail("empty");
        r.m_high_infinite = true;
    } else {
        auto v = parse_number(high);
        if (!v) throw fail("end is not a number");
        r.m_high = *v;
        r.m_high_infinite = false;
    }
    if (!r.m_low_infinite && !r.m_high_infinite && r.m_low > r.m_high) {
        throw fail("start is greater than end");
    }
    return r;
}

bool Range::alerts(double value) const {
    bool below = !m_low_infinite && value < m_low;
    bool above = !m_high_infinite && value > m_high;
    bool outside = below || above;
    return m_inside ? !outside : outside;
}

Status Thresholds::evaluate(double value) const {
    if (critical && critical->alerts(value)) return Status::critical;
    if (warning && warning->alerts(value)) return Status::warning;
    return Status::ok;
}

}  // namespace mailprobe
