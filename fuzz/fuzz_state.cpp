// The --async state file reader (state::parse) on arbitrary file contents: a corrupt file is
// a CheckFailure (UNKNOWN) naming the path, never a crash; what parses writes back the same.
#include "fuzz_common.hpp"
#include "result/failure.hpp"
#include "state/model.hpp"

using namespace mailprobe;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text = fuzz::as_view(data, size);
    if (auto raw = state::unescape_value(text)) {
        FUZZ_CHECK(state::unescape_value(state::escape_value(*raw)) == *raw);
    }
    std::string escaped = state::escape_value(text);
    FUZZ_CHECK(state::unescape_value(escaped) == std::string(text));
    try {
        state::CheckState st = state::parse(text, "/fuzz/state");
        std::string written = state::serialize(st);
        FUZZ_CHECK(state::parse(written, "/fuzz/again") == st);
    } catch (const CheckFailure& e) {
        FUZZ_CHECK(e.status() == Status::unknown);
        FUZZ_CHECK(std::string_view(e.what()).starts_with("/fuzz/state: "));
    }
    return 0;
}
