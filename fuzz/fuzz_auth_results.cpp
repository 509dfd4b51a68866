// The Authentication-Results parser on an untrusted header block: auth_results_fields,
// parse_auth_results (plain and ARC) and evaluate_auth with and without --authserv-id.
#include "fuzz_common.hpp"
#include "relay/headers.hpp"
#include "verdict/auth_results.hpp"

using namespace mailprobe;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text = fuzz::as_view(data, size);
    for (const bool arc : {false, true}) {
        if (auto f = verdict::parse_auth_results(text, arc)) {
            FUZZ_CHECK(f->results.size() <= verdict::max_results_per_field);
            for (const auto& r : f->results) FUZZ_CHECK(!r.method.empty() && !r.result.empty());
        }
    }
    const auto fields = verdict::auth_results_fields(text);
    FUZZ_CHECK(fields.size() <= 2 * verdict::max_auth_fields);
    for (const auto& ids :
         {std::vector<std::string>{}, std::vector<std::string>{"mx.example.org"}}) {
        const auto v = verdict::evaluate_auth(text, ids);
        FUZZ_CHECK(v.methods.size() == 4);
        FUZZ_CHECK(v.fields_trusted <= v.fields_seen);
        FUZZ_CHECK(!v.topmost_only || v.fields_trusted <= 1);
        for (const auto& m : v.methods) FUZZ_CHECK(fuzz::status_line_safe(verdict::describe(m)));
    }
    return 0;
}
