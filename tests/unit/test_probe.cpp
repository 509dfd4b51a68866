#define BOOST_TEST_MODULE probe
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <boost/test/unit_test.hpp>
#include <functional>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "probe/canonical.hpp"
#include "probe/probe.hpp"
#include "probe_test_util.hpp"

using namespace mailprobe::probe;
using namespace probe_test;

namespace {

ProbeMessage fresh(const MessageFields& f = fields()) {
    return make_probe_message(k_identity, k_now, f);
}

bool ours(const std::string& message, const Identity& identity = k_identity) {
    return verify_message(identity, message).has_value();
}

using Transform = std::function<std::string(const std::string&)>;
struct Case {
    const char* what;
    Transform change;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(tags)

BOOST_AUTO_TEST_CASE(fresh_probe_verifies_against_its_message) {
    auto m = fresh();
    auto found = verify_message(k_identity, m.text);
    BOOST_TEST_REQUIRE(found.has_value());
    BOOST_TEST(found->id == m.probe.id);
    BOOST_TEST(found->sent_ms == k_now);
    BOOST_TEST(found->tag == m.probe.tag);
    BOOST_TEST(std::regex_match(m.probe.id, std::regex("[0-9a-f]{32}")));
    BOOST_TEST(std::regex_match(m.probe.tag, std::regex("[0-9a-f]{64}")));
    BOOST_TEST(m.probe.name_digest == k_identity.name_digest());
    // l= is the canonical length of exactly our body text
    BOOST_TEST(m.probe.body_length == canonical_body(m.text)->size());
    BOOST_TEST(header_of(m.text, "X-Mailprobe") == m.probe.header_value());
}

BOOST_AUTO_TEST_CASE(other_key_or_name_fails) {
    auto m = fresh();
    BOOST_TEST(!ours(m.text, Identity{k_identity.name, k_identity.key + "x"}));
    BOOST_TEST(!ours(m.text, Identity{k_identity.name, ""}));
    BOOST_TEST(!ours(m.text, Identity{k_identity.name + "2", k_identity.key}));
    // Even with n= forged to the other name's digest: the tag covers the full name.
    Identity other{k_identity.name + "2", k_identity.key};
    std::string forged = m.text;
    replace_all(forged, "n=" + m.probe.name_digest, "n=" + other.name_digest());
    BOOST_TEST(!ours(forged, other));
}

BOOST_AUTO_TEST_CASE(every_header_field_is_covered) {
    auto m = fresh();
    const auto& p = m.probe;
    std::string t = std::to_string(k_now), l = std::to_string(p.body_length);
    std::vector<std::pair<std::string, std::string>> edits = {
        {"id=" + p.id, "id=" + flip(p.id, 31)},
        {"t=" + t, "t=" + std::to_string(k_now + 1)},
        {"l=" + l, "l=" + std::to_string(p.body_length - 1)},
        {"tag=" + p.tag, "tag=" + flip(p.tag, 0)},
        {"tag=" + p.tag, "tag=" + flip(p.tag, 63)},
    };
    for (const auto& [from, to] : edits) {
        std::string changed = m.text;
        replace_all(changed, "; " + from, "; " + to);
        BOOST_TEST_REQUIRE(changed != m.text, from);
        BOOST_TEST(!ours(changed), from << " -> " << to);
    }
}

BOOST_AUTO_TEST_CASE(v1_probes_are_never_ours_again) {
    // The old format: tag = HMAC(key, "mailprobe-v1\n" name "\n" id "\n" t), message unbound.
    auto m = fresh();
    std::string id = m.probe.id, t = std::to_string(k_now);
    std::string data = "mailprobe-v1\n" + k_identity.name + "\n" + id + "\n" + t;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(EVP_sha256(), k_identity.key.data(), static_cast<int>(k_identity.key.size()),
         reinterpret_cast<const unsigned char*>(data.data()), data.size(), md, &len);
    std::string tag;
    for (unsigned i = 0; i < len; ++i)
        tag += "0123456789abcdef"[md[i] >> 4], tag += "0123456789abcdef"[md[i] & 15];
    std::string v1 = "v=1; n=" + m.probe.name_digest + "; id=" + id + "; t=" + t + "; tag=" + tag;
    BOOST_TEST(!parse_header_value(v1).has_value());
    std::string message = m.text;
    replace_all(message, m.probe.header_value(), v1);
    BOOST_TEST(!ours(message));
    // v=2 with the v=1 fields (no l=) is not of our format either
    BOOST_TEST(!parse_header_value("v=2" + v1.substr(3)).has_value());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(survives_mail_systems)

// What real mail systems do to a message on its way: each must leave our probe ours.
BOOST_AUTO_TEST_CASE(transformed_probe_still_verifies) {
    const std::string footer =
        "\r\n-- \r\nThis message was scanned by Example Gateway.\r\nDisclaimer: =ignore=\r\n";
    const std::vector<Case> cases = {
        {"unchanged", [](auto& m) { return m; }},
        {"trace fields added on top",
         [](auto& m) {
             return "Return-Path: <probe@example.org>\r\nDelivered-To: inbox@example.net\r\n"
                    "Received: from mx.example.net (mx.example.net [192.0.2.1])\r\n\tby imap "
                    "with LMTP id abc; Tue, 14 Nov 2023 22:13:21 +0000\r\n"
                    "DKIM-Signature: v=1; a=rsa-sha256; d=example.org; b=abc\r\n"
                    "X-Spam-Status: No, score=-1.0\r\n" +
                    m;
         }},
        {"fields added below ours",
         [](auto& m) { return insert_before_body(m, "X-Virus-Scanned: clean\r\n"); }},
        {"fields refolded and respaced", [](auto& m) { return refold(m); }},
        {"field names in other case", [](auto& m) { return rename_fields(m); }},
        {"LF line endings", [](auto& m) { return to_lf(m); }},
        {"quoted-printable", [](auto& m) { return reencode_qp(m); }},
        {"base64", [](auto& m) { return reencode_base64(m); }},
        {"trailing whitespace and empty lines",
         [](auto& m) { return spaces_at_line_ends(m) + "\r\n\r\n"; }},
        {"footer appended", [&](auto& m) { return m + footer; }},
        {"footer, quoted-printable, LF", [&](auto& m) { return to_lf(reencode_qp(m + footer)); }},
        {"footer, base64, trace fields",
         [&](auto& m) {
             return "Received: by relay; Tue, 14 Nov 2023\r\n" + reencode_base64(m + footer);
         }},
        {"fetch cut short after our text",
         [&](auto& m) { return (m + footer).substr(0, m.size() + 7); }},
    };
    auto m = fresh();
    for (const auto& c : cases) {
        std::string changed = c.change(m.text);
        auto found = verify_message(k_identity, changed);
        BOOST_TEST(found.has_value(), c.what << ":\n" << changed);
        if (found) BOOST_TEST(found->id == m.probe.id, c.what);
    }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(copies_are_not_ours)

// What a copy of our header in another message cannot keep: none of these is ours.
BOOST_AUTO_TEST_CASE(changed_or_copied_probe_fails) {
    auto m = fresh();
    const std::string head = m.text.substr(0, m.text.find("\r\n\r\n") + 4);
    const std::string body = m.text.substr(head.size());
    const std::string xmp = "X-Mailprobe: " + m.probe.header_value() + "\r\n";
    const std::vector<Case> cases = {
        {"one body character changed",
         [](auto& t) { return replace_first(t, "leave it alone", "leave it Alone"); }},
        {"body line removed", [](auto& t) { return replace_first(t, "sent by mailprobe", ""); }},
        {"text before our body", [&](auto&) { return head + "FYI, see below\r\n" + body; }},
        {"body quoted in a reply", [&](auto&) { return head + quote(body); }},
        {"body cut short", [&](auto&) { return head + body.substr(0, body.size() - 10); }},
        {"no body", [&](auto&) { return head; }},
        {"Subject changed",
         [&](auto& t) {
             return replace_first(t, "Subject: [mailprobe]", "Subject: Re: [mailprobe]");
         }},
        {"Message-ID changed",
         [&](auto& t) { return replace_first(t, "Message-ID: <mailprobe.", "Message-ID: <x."); }},
        {"Date changed", [&](auto& t) { return replace_first(t, "22:13:20", "22:13:21"); }},
        {"second Subject", [&](auto& t) { return "Subject: other\r\n" + t; }},
        {"Date missing", [&](auto& t) { return remove_field(t, "Date"); }},
        {"unknown transfer encoding",
         [&](auto& t) {
             return replace_first(t, "Transfer-Encoding: 7bit", "Transfer-Encoding: x-uue");
         }},
        {"header copied into a user mail",
         [&](auto&) {
             return "Date: Fri, 27 Nov 2026 10:00:00 +0000\r\nFrom: <a@b.test>\r\nSubject: hi\r\n"
                    "Message-ID: <1@b.test>\r\n" +
                    xmp + "\r\nPlease read this.\r\n";
         }},
        {"all signed fields copied, other body",
         [&](auto&) { return head + "My own text, not the probe's.\r\n"; }},
        {"whole probe forwarded inside a bounce",
         [&](auto&) {
             return "Date: Fri, 27 Nov 2026 10:00:00 +0000\r\nSubject: Undelivered\r\n"
                    "Message-ID: <b@mx.test>\r\n\r\n--- original message ---\r\n" +
                    m.text;
         }},
    };
    BOOST_TEST_REQUIRE(ours(m.text));
    for (const auto& c : cases) {
        std::string changed = c.change(m.text);
        BOOST_TEST_REQUIRE(changed != m.text, c.what);
        BOOST_TEST(!ours(changed), c.what << ":\n" << changed);
    }
}

BOOST_AUTO_TEST_CASE(another_probe_of_ours_keeps_its_own_binding) {
    // Two genuine probes: swapping their headers makes neither verify.
    auto a = fresh(), b = fresh();
    std::string swapped = a.text;
    replace_all(swapped, a.probe.header_value(), b.probe.header_value());
    BOOST_TEST(!ours(swapped));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(header_format)

BOOST_AUTO_TEST_CASE(value_format_and_round_trip) {
    auto p = fresh().probe;
    BOOST_TEST(p.header_value() == "v=2; n=" + p.name_digest + "; id=" + p.id +
                                       "; t=1700000000123; l=" + std::to_string(p.body_length) +
                                       "; tag=" + p.tag);
    auto parsed = parse_header_value(p.header_value());
    BOOST_TEST_REQUIRE(parsed.has_value());
    BOOST_TEST(parsed->id == p.id);
    BOOST_TEST(parsed->name_digest == p.name_digest);
    BOOST_TEST(parsed->sent_ms == p.sent_ms);
    BOOST_TEST(parsed->body_length == p.body_length);
    BOOST_TEST(parsed->tag == p.tag);
}

BOOST_AUTO_TEST_CASE(spaces_order_and_unknown_fields) {
    auto p = fresh().probe;
    std::string t = std::to_string(k_now), l = std::to_string(p.body_length);
    BOOST_TEST(parse_header_value("  v=2 ;\tn=" + p.name_digest + " ;  id=" + p.id + ";t=" + t +
                                  "; l=" + l + " ;   tag=" + p.tag + "  \r")
                   .has_value());
    BOOST_TEST(parse_header_value("tag=" + p.tag + "; x=1; l=" + l + "; t=" + t + "; id=" + p.id +
                                  "; n=" + p.name_digest + "; v=2")
                   .has_value());
}

BOOST_AUTO_TEST_CASE(malformed_values_rejected) {
    auto p = fresh().probe;
    auto with = [&](std::string v, std::string n, std::string id, std::string t, std::string l,
                    std::string tag) {
        return "v=" + v + "; n=" + n + "; id=" + id + "; t=" + t + "; l=" + l + "; tag=" + tag;
    };
    std::string n = p.name_digest, id = p.id, t = "5", l = "100", tag = p.tag;
    BOOST_TEST(parse_header_value(with("2", n, id, t, l, tag)).has_value());
    const std::vector<std::string> bad = {
        with("1", n, id, t, l, tag),
        with("", n, id, t, l, tag),
        with("2.0", n, id, t, l, tag),
        with("2", n + "0", id, t, l, tag),
        with("2", n.substr(1), id, t, l, tag),
        with("2", n, id + "0", t, l, tag),
        with("2", n, flip(id, 0).replace(3, 1, "g"), t, l, tag),
        with("2", n, "A" + id.substr(1), t, l, tag),
        with("2", n, id, t, l, tag + "0"),
        with("2", n, id, t, l, tag.substr(1)),
        with("2", n, id, "0", l, tag),
        with("2", n, id, "-5", l, tag),
        with("2", n, id, "+5", l, tag),
        with("2", n, id, "12abc", l, tag),
        with("2", n, id, "99999999999999999999999", l, tag),
        with("2", n, id, t, "0", tag),
        with("2", n, id, t, "4097", tag),
        with("2", n, id, t, "-1", tag),
        with("2", n, id, t, "", tag),
        "v=2; n=" + n + "; id=" + id + "; t=5; tag=" + tag,  // no l=
        "",
        ";;;",
        "v=2; n; id=" + id,
        std::string(10 * 1024, 'a'),
        std::string("v=2\0; n=", 8),
        with("2", n, id, t, l, tag) + "; x=" + std::string(1024, 'b'),
    };
    for (const auto& value : bad) BOOST_TEST(!parse_header_value(value).has_value(), value);
}

BOOST_AUTO_TEST_CASE(candidate_header_only_narrows) {
    auto m = fresh();
    BOOST_TEST(candidate_header(k_identity, m.text));
    BOOST_TEST(!candidate_header(Identity{"other", k_identity.key}, m.text));
    BOOST_TEST(!candidate_header(
        k_identity, "Subject: x\r\n\r\nX-Mailprobe: " + m.probe.header_value() + "\r\n"));
}

BOOST_AUTO_TEST_SUITE_END()
