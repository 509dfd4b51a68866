// Secret scrubbing: once registered, a secret (first line of the input, >= 4 bytes) never
// survives secrets::scrub() in the text that follows, whatever that text is.
#include "core/secrets.hpp"
#include "fuzz_common.hpp"

using namespace mailprobe;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view input = fuzz::as_view(data, size);
    auto eol = input.find('\n');
    if (eol == std::string_view::npos || eol < 4 || eol > 64) return 0;
    std::string_view secret = input.substr(0, eol);
    std::string text(input.substr(eol + 1));
    secrets::clear();
    secrets::register_secret(secret);
    std::string out = secrets::scrub(text);
    // (A secret with a "*" may be found again next to or inside the mask "********".)
    if (secret.find('*') == std::string_view::npos) {
        FUZZ_CHECK(out.find(secret) == std::string::npos);
    }
    FUZZ_CHECK(out.size() <= 2 * text.size() + 8);
    secrets::clear();
    return 0;
}
