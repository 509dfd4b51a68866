// The probe tag verifier and the canonicalization under it: untrusted messages (header
// block and body), parsed and checked against our identity. The input is used four ways:
// as a whole message, as a footer appended to a genuine probe (must stay ours), as the
// body of a genuine probe's header (ours only when it starts with our text), and as a
// --subject prefix (the built Subject field stays within the RFC 5322 line limits).
#include "fuzz_common.hpp"
#include "probe/canonical.hpp"
#include "probe/probe.hpp"
#include "probe/subject.hpp"
#include "relay/headers.hpp"

using namespace mailprobe;

namespace {

const probe::Identity k_identity{"fuzz-check:probe@example.org",
                                 "0123456789abcdef0123456789abcdef"};

const probe::ProbeMessage& genuine() {
    static const probe::ProbeMessage m = [] {
        probe::MessageFields f{"probe@example.org",
                               {"inbox@example.net"},
                               "mailprobe",
                               "monitor.example.org",
                               "smtp://mx.example.net:25"};
        return probe::make_probe_message(k_identity, 1700000000123, f);
    }();
    return m;
}

void check_any_message(std::string_view text) {
    auto found = probe::verify_message(k_identity, text);
    if (found) {
        // A verified probe carries exactly the tag we would compute for this message.
        FUZZ_CHECK(probe::compute_tag(k_identity, *found, text) == found->tag);
        FUZZ_CHECK(found->body_length > 0 && found->body_length <= probe::k_max_body_length);
    }
    for (const auto& value : relay::header_values(text, probe::k_header, 4)) {
        auto p = probe::parse_header_value(value);
        if (!p) continue;
        auto again = probe::parse_header_value(p->header_value());
        FUZZ_CHECK(again && again->id == p->id && again->tag == p->tag &&
                   again->sent_ms == p->sent_ms && again->body_length == p->body_length);
    }
    // CRLF and LF are the same message (when no CR stands elsewhere).
    bool plain_crlf = true;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\r' && (i + 1 == text.size() || text[i + 1] != '\n')) plain_crlf = false;
    }
    if (plain_crlf) {
        std::string lf;
        for (char c : text) {
            if (c != '\r') lf += c;
        }
        FUZZ_CHECK(probe::verify_message(k_identity, lf).has_value() == found.has_value());
    }
}

void check_decoders(std::string_view text) {
    std::string canonical = probe::canonical_text(text);
    FUZZ_CHECK(probe::canonical_text(canonical) == canonical);  // idempotent
    std::size_t lines = 1;
    for (char c : text) lines += c == '\n';
    FUZZ_CHECK(probe::decode_quoted_printable(text).size() <= text.size() + lines);
    if (auto b = probe::decode_base64(text)) FUZZ_CHECK(b->size() <= text.size() / 4 * 3);
}

void check_with_genuine(std::string_view data) {
    const auto& g = genuine();
    FUZZ_CHECK(probe::verify_message(k_identity, g.text).has_value());
    // Whatever a gateway appends after our text, the probe stays ours.
    FUZZ_CHECK(probe::verify_message(k_identity, g.text + std::string(data)).has_value());
    // Our header over another body: ours only when that body starts with our text.
    const std::string head = g.text.substr(0, g.text.find("\r\n\r\n") + 4);
    const std::string ours = *probe::canonical_body(g.text);
    bool starts = probe::canonical_text(data).starts_with(ours);
    FUZZ_CHECK(probe::verify_message(k_identity, head + std::string(data)).has_value() == starts);
}

void check_subject(std::string_view prefix) {
    std::string field = probe::subject_field(prefix, std::string(32, 'a'));
    FUZZ_CHECK(field.starts_with("Subject:") && field.ends_with("\r\n"));
    std::size_t start = 0;
    while (start < field.size()) {
        std::size_t end = field.find("\r\n", start);
        FUZZ_CHECK(end != std::string::npos && end - start <= 998);
        std::string_view line(field.data() + start, end - start);
        FUZZ_CHECK(line.find_first_not_of(" \t") != std::string_view::npos);
        for (char c : line) {
            auto u = static_cast<unsigned char>(c);
            FUZZ_CHECK(u >= 0x20 && u < 0x7f);
        }
        if (start > 0) FUZZ_CHECK(line.front() == ' ');  // a continuation line
        start = end + 2;
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text = fuzz::as_view(data, size);
    check_any_message(text);
    check_decoders(text);
    check_with_genuine(text);
    if (size <= 4096) check_subject(text);
    return 0;
}
