// OAuth2 token endpoint replies (JSON from the provider, RFC 6749 5.1/5.2) and token cache
// files: whatever arrives, a reply is either a usable bearer token or one clean CRITICAL
// line of bounded length, and a cache file is either a valid token or nothing.
#include "fuzz_common.hpp"
#include "oauth2/token_cache.hpp"
#include "oauth2/token_endpoint.hpp"
#include "oauth2/token_source.hpp"
#include "result/failure.hpp"

using namespace mailprobe;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view input = fuzz::as_view(data, size);
    const long status = size % 3 == 0 ? 400 : 200;
    try {
        auto reply = oauth2::parse_token_reply(input, status, "https://login.example/token");
        FUZZ_CHECK(!oauth2::token_problem(reply.access_token).has_value());
        FUZZ_CHECK(status == 200);
    } catch (const CheckFailure& e) {
        std::string_view line = e.what();
        FUZZ_CHECK(line.find_first_of("\r\n") == std::string_view::npos);
        FUZZ_CHECK(line.size() <= 600);
        FUZZ_CHECK(fuzz::valid_utf8(std::string(line)));
    }
    if (auto cached = oauth2::parse_cached_token(input)) {
        FUZZ_CHECK(!oauth2::token_problem(cached->access_token).has_value());
        FUZZ_CHECK(oauth2::parse_cached_token(oauth2::format_cached_token(*cached)).has_value());
    }
    return 0;
}
