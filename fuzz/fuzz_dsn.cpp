// The DSN parser on an untrusted message: MIME splitting, RFC 3464 delivery-status parts,
// plain-text bounces, and refers_to(), which must never call a DSN ours without a verified tag.
#include "fuzz_common.hpp"
#include "probe/probe.hpp"
#include "relay/headers.hpp"
#include "verdict/dsn.hpp"
#include "verdict/mime.hpp"

using namespace mailprobe;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text = fuzz::as_view(data, size);
    FUZZ_CHECK(verdict::leaf_parts(text).size() <= verdict::max_mime_parts);
    FUZZ_CHECK(verdict::multipart_parts(text, "b").size() <= verdict::max_mime_parts);
    const auto dsn = verdict::parse_dsn(text);
    if (!dsn) return 0;
    FUZZ_CHECK(fuzz::status_line_safe(verdict::describe(*dsn)));
    // The same key as fuzz/make_corpus.py, so seeds with a valid tag reach the "ours" branch.
    static const probe::Identity identity{"fuzz-check:probe@example.org",
                                          "0123456789abcdef0123456789abcdef"};
    const std::vector<std::string> awaited{"0123456789abcdef0123456789abcdef"};
    const auto ref = verdict::refers_to(*dsn, identity, awaited);
    if (ref.match == verdict::DsnMatch::ours) {
        const auto p = probe::verify_message(identity, dsn->returned_message);
        FUZZ_CHECK(dsn->returned_body && p && p->id == ref.probe_id);
    }
    return 0;
}
