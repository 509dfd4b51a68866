// Bearer SASL error payloads (base64 JSON from the server, RFC 7628 3.2.2) and capability
// lines: whatever a hostile server sends, the words we make of it are one clean line of
// bounded length, and nothing throws.
#include "fuzz_common.hpp"
#include "oauth2/sasl.hpp"

using namespace mailprobe;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view input = fuzz::as_view(data, size);
    std::string words = oauth2::describe_error_payload(input);
    FUZZ_CHECK(words.find_first_of("\r\n|") == std::string::npos);
    FUZZ_CHECK(words.size() <= 210);
    FUZZ_CHECK(fuzz::valid_utf8(words));
    std::vector<std::string> lines;
    for (std::size_t i = 0; i < input.size();) {
        auto eol = input.find('\n', i);
        if (eol == std::string_view::npos) eol = input.size();
        lines.push_back("S: " + std::string(input.substr(i, eol - i)));
        i = eol + 1;
    }
    for (auto proto : {curl::Protocol::imap, curl::Protocol::pop3, curl::Protocol::smtp}) {
        for (const auto& mech : oauth2::advertised_mechanisms(lines, proto)) {
            FUZZ_CHECK(!mech.empty() && mech.find(' ') == std::string::npos);
        }
    }
    (void)oauth2::explain_auth_refusal(input, curl::Protocol::smtp, size % 2 == 0);
    return 0;
}
