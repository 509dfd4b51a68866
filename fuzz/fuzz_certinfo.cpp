// --cert-days values and certificate dates as libcurl prints them.
#include "core/error.hpp"
#include "curl/certinfo.hpp"
#include "fuzz_common.hpp"

using namespace mailprobe;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text = fuzz::as_view(data, size);
    (void)curl::parse_cert_date(text);
    try {
        auto days = curl::parse_cert_days(text);
        FUZZ_CHECK(days.warning >= 0);
        FUZZ_CHECK(!days.critical || (*days.critical >= 0 && *days.critical <= days.warning));
    } catch (const UsageError&) {
    }
    return 0;
}
