// The probe tag verifier: X-Mailprobe fields found in an untrusted header block, parsed and
// checked against our identity. Input: a header block (or a bare header value).
#include "fuzz_common.hpp"
#include "probe/probe.hpp"
#include "relay/headers.hpp"

using namespace mailprobe;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const probe::Identity identity{"fuzz-check:probe@example.org",
                                          "0123456789abcdef0123456789abcdef"};
    std::string_view text = fuzz::as_view(data, size);
    auto check = [&](std::string_view value) {
        auto p = probe::parse_header_value(value);
        if (!p) return;
        FUZZ_CHECK(p->id.size() == 32 && p->name_digest.size() == 16 && p->tag.size() == 64);
        FUZZ_CHECK(p->sent_ms > 0);
        // What we write we read back the same.
        auto again = probe::parse_header_value(p->header_value());
        FUZZ_CHECK(again && again->id == p->id && again->tag == p->tag &&
                   again->sent_ms == p->sent_ms && again->name_digest == p->name_digest);
        bool ours = probe::verify(identity, *p);
        // A verified probe carries exactly the tag we would compute; a forged one never does.
        FUZZ_CHECK(ours == (p->name_digest == identity.name_digest() &&
                            p->tag == probe::compute_tag(identity, p->id, p->sent_ms)));
        if (ours) {
            probe::Probe tampered = *p;
            tampered.sent_ms += 1;
            FUZZ_CHECK(!probe::verify(identity, tampered));
        }
    };
    check(text);
    for (const auto& value : relay::header_values(text, probe::k_header, 4)) check(value);
    return 0;
}
