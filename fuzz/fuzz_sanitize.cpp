// sanitize_text: whatever a server sends, the result is safe in a status line, valid UTF-8
// and bounded. The first byte picks the length cap.
#include "core/sanitize.hpp"
#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    std::size_t max_len = data[0] % 2 ? data[0] : 300;
    std::string_view text = fuzz::as_view(data + 1, size - 1);
    std::string out = mailprobe::sanitize_text(text, max_len);
    FUZZ_CHECK(fuzz::status_line_safe(out));
    FUZZ_CHECK(fuzz::valid_utf8(out));
    FUZZ_CHECK(out.size() <= max_len + 3 + 3);  // a last multi-byte character, then "..."
    FUZZ_CHECK(out.empty() || (out.front() != ' ' && out.back() != ' '));
    // Clean text of a reasonable length passes through unchanged.
    if (out.size() < max_len && out.find("...") == std::string::npos) {
        FUZZ_CHECK(mailprobe::sanitize_text(out, max_len) == out);
    }
    return 0;
}
