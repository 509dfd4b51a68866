// The protocol transcript (redaction and stage tracking) fed arbitrary client and server
// lines: the first byte of each line says which side it comes from and the protocol is
// picked by the first byte of the input. Remembered lines stay bounded and printable.
#include "curl/transcript.hpp"
#include "fuzz_common.hpp"

using namespace mailprobe::curl;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    static const Protocol protocols[] = {Protocol::smtp, Protocol::imap, Protocol::pop3};
    Transcript t(protocols[data[0] % 3]);
    std::string_view text = fuzz::as_view(data + 1, size - 1);
    while (!text.empty()) {
        auto eol = text.find('\n');
        std::string_view line = text.substr(0, eol);
        if (!line.empty()) {
            bool client = static_cast<unsigned char>(line[0]) & 1;
            line.remove_prefix(1);
            if (client) {
                t.on_client(line);
            } else {
                t.on_server(line);
            }
        }
        if (eol == std::string_view::npos) break;
        text.remove_prefix(eol + 1);
    }
    FUZZ_CHECK(t.lines().size() <= 400);
    for (const auto& l : t.lines()) {
        FUZZ_CHECK(l.size() <= 410);
        FUZZ_CHECK(fuzz::status_line_safe(l));
    }
    // waiting_for() names our own last command (rendering sanitises it): only bounded.
    FUZZ_CHECK(t.waiting_for().size() <= size + 32);
    FUZZ_CHECK(fuzz::status_line_safe(t.last_reply()) && fuzz::status_line_safe(t.last_command()));
    return 0;
}
