// Range::parse (Nagios threshold syntax) and Thresholds::evaluate on arbitrary text.
#include <cmath>

#include "core/error.hpp"
#include "fuzz_common.hpp"
#include "result/range.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text = fuzz::as_view(data, size);
    if (auto n = mailprobe::parse_number(text)) FUZZ_CHECK(std::isfinite(*n));
    try {
        auto range = mailprobe::Range::parse(text);
        FUZZ_CHECK(range.text() == text);
        for (double v : {-1e300, -1.0, 0.0, 0.5, 10.0, 1e300}) (void)range.alerts(v);
        mailprobe::Thresholds t{range, range};
        auto s = t.evaluate(1.0);
        FUZZ_CHECK(s == mailprobe::Status::ok || s == mailprobe::Status::critical);
    } catch (const mailprobe::UsageError& e) {
        FUZZ_CHECK(std::string_view(e.what()).starts_with("invalid range"));
    }
    return 0;
}
