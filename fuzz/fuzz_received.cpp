// The header and Received parsers on an untrusted header block: header_values, unfold,
// parse_received (with the TLS note of each hop), parse_date, received_path and describe_path.
#include "fuzz_common.hpp"
#include "relay/headers.hpp"
#include "relay/received.hpp"

using namespace mailprobe;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text = fuzz::as_view(data, size);
    (void)relay::parse_date(text);
    (void)relay::unfold(text);
    if (!text.empty() && text.front() == '(')
        FUZZ_CHECK(relay::comment_end(text, 0) <= text.size());
    auto values = relay::header_values(text, "Received");
    FUZZ_CHECK(relay::header_values(text, "Received", 2).size() <= 2);
    for (const auto& v : values) {
        FUZZ_CHECK(v.size() <= relay::max_field_bytes);
        if (auto r = relay::parse_received(v)) {
            FUZZ_CHECK(fuzz::status_line_safe(relay::describe_tls(r->tls)));
            FUZZ_CHECK(!r->tls.version || r->tls.transport == relay::Transport::tls);
        }
    }
    auto hops = relay::received_path(text);
    FUZZ_CHECK(hops.size() <= relay::max_received_fields);
    for (const auto& hop : hops) FUZZ_CHECK(hop.delay_s >= 0);
    std::string path = relay::describe_path(hops);
    FUZZ_CHECK(path.find('|') == std::string::npos);
    for (char c : path) FUZZ_CHECK(static_cast<unsigned char>(c) >= 0x20 && c != 0x7f);
    return 0;
}
