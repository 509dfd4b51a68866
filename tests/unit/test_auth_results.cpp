#define BOOST_TEST_MODULE auth_results
#include <boost/test/unit_test.hpp>

#include <string>

#include "relay/headers.hpp"
#include "verdict/auth_results.hpp"

using namespace mailprobe::verdict;

namespace {

// Header samples in the form each receiving system writes them (addresses, keys and IPs
// replaced by documentation values).
const std::string gmail =
    "ARC-Authentication-Results: i=1; mx.google.com;\r\n"
    "       dkim=pass header.i=@example.com header.s=sel1 header.b=\"Gd/Zk3Kb\";\r\n"
    "       spf=pass (google.com: domain of alice@example.com designates 192.0.2.1 as permitted "
    "sender) smtp.mailfrom=alice@example.com;\r\n"
    "       dmarc=pass (p=REJECT sp=REJECT dis=NONE) header.from=example.com\r\n"
    "Authentication-Results: mx.google.com;\r\n"
    "       dkim=pass header.i=@example.com header.s=sel1 header.b=\"Gd/Zk3Kb\";\r\n"
    "       spf=pass (google.com: domain of alice@example.com designates 192.0.2.1 as permitted "
    "sender) smtp.mailfrom=alice@example.com;\r\n"
    "       dmarc=pass (p=REJECT sp=REJECT dis=NONE) header.from=example.com\r\n"
    "Received: from mail.example.com (mail.example.com. [192.0.2.1])\r\n"
    "        by mx.google.com with ESMTPS id x5si1234567wrx.12.2024.01.30.01.02.03\r\n"
    "        for <bob@gmail.com>; Tue, 30 Jan 2024 01:02:03 -0800 (PST)\r\n"
    "\r\n";

const std::string microsoft365 =
    "Authentication-Results: spf=pass (sender IP is 209.85.218.54)\r\n"
    " smtp.mailfrom=gmail.com; dkim=fail (body hash did not verify)\r\n"
    " header.d=gmail.com;dmarc=pass action=none header.from=gmail.com;compauth=pass\r\n"
    " reason=100\r\n"
    "Received-SPF: Pass (protection.outlook.com: domain of gmail.com designates\r\n"
    " 209.85.218.54 as permitted sender) receiver=protection.outlook.com;\r\n"
    "\r\n";

const std::string fastmail =
    "Authentication-Results: mx6.messagingengine.com;\r\n"
    "    arc=none (no signatures found);\r\n"
    "    dkim=pass (2048-bit rsa key sha256) header.d=example.com header.i=@example.com\r\n"
    "      header.b=Ab12Cd34 header.a=rsa-sha256 header.s=fm1 x-bits=2048;\r\n"
    "    dmarc=pass policy.published-domain-policy=none\r\n"
    "      policy.applied-disposition=none policy.evaluated-disposition=none\r\n"
    "      (p=none,d=none,d.eval=none) policy.policy-from=p header.from=example.com;\r\n"
    "    iprev=pass smtp.remote-ip=66.111.4.28 (out4-smtp.messagingengine.com);\r\n"
    "    spf=pass smtp.mailfrom=alice@example.com smtp.helo=out4-smtp.messagingengine.com;\r\n"
    "    x-aligned-from=pass (Address match);\r\n"
    "    x-me-sender=none\r\n"
    "\r\n";

const std::string rspamd =
    "Authentication-Results: mail.example.org;\r\n"
    "\tdkim=pass header.d=example.com header.s=dkim header.b=abcdefgh;\r\n"
    "\tdmarc=pass (policy=reject) header.from=example.com;\r\n"
    "\tspf=softfail (mail.example.org: domain of \"bounce@example.com\" uses a mechanism not "
    "matched by 192.0.2.10) smtp.mailfrom=\"bounce@example.com\"\r\n"
    "\r\n";

// The final Postfix of a stack with OpenDMARC, OpenDKIM and policyd-spf milters: three fields
// by the same authserv-id (the newest milter on top), and a forged field below them.
const std::string opendkim_opendmarc =
    "Authentication-Results: mx.mail.test; dmarc=fail (p=reject dis=none) "
    "header.from=relay.test\r\n"
    "Authentication-Results: mx.mail.test;\r\n"
    "\tdkim=fail reason=\"signature verification failed\" (2048-bit key; unprotected)\r\n"
    "\theader.d=relay.test header.i=@relay.test header.a=rsa-sha256 header.s=mail\r\n"
    "\theader.b=AbCdEfGh\r\n"
    "Authentication-Results: mx.mail.test; spf=pass (sender SPF authorized)\r\n"
    "\tsmtp.mailfrom=relay.test (client-ip=127.0.0.1; helo=relay.test;\r\n"
    "\tenvelope-from=probe@relay.test; receiver=<UNKNOWN>)\r\n"
    "Received: from relay.test (localhost [127.0.0.1]) by mx.mail.test (Postfix)\r\n"
    "\twith ESMTP id 4F1C2A7203E; Fri, 27 Nov 2026 17:32:05 +0000 (UTC)\r\n"
    "Authentication-Results: mx.mail.test; dkim=pass; spf=pass; dmarc=pass\r\n"
    "\r\n";

}  // namespace

BOOST_AUTO_TEST_CASE(gmail_comment_between_result_and_property) {
    const auto f = auth_results_fields(gmail);
    BOOST_TEST_REQUIRE(f.size() == 2U);  // Authentication-Results first, then ARC's
    BOOST_TEST(!f[0].arc);
    BOOST_TEST(f[0].authserv_id == "mx.google.com");
    BOOST_TEST_REQUIRE(f[0].results.size() == 3U);
    const auto& spf = f[0].results[1];
    BOOST_TEST(spf.method == "spf");
    BOOST_TEST(spf.result == "pass");
    BOOST_TEST(spf.comment.find("designates 192.0.2.1") != std::string::npos);
    BOOST_TEST(spf.property("smtp.mailfrom") == "alice@example.com");
    BOOST_TEST(f[0].results[0].property("header.b") == "Gd/Zk3Kb");  // quoted value
    BOOST_TEST(f[0].results[2].comment == "p=REJECT sp=REJECT dis=NONE");
    BOOST_TEST(f[1].arc);
    BOOST_TEST(f[1].arc_instance == 1);
    BOOST_TEST(f[1].authserv_id == "mx.google.com");
    BOOST_TEST(f[1].results.size() == 3U);
}

BOOST_AUTO_TEST_CASE(microsoft365_without_authserv_id_and_compauth) {
    const auto f = auth_results_fields(microsoft365);
    BOOST_TEST_REQUIRE(f.size() == 1U);
    BOOST_TEST(f[0].authserv_id.empty());
    BOOST_TEST_REQUIRE(f[0].results.size() == 4U);
    BOOST_TEST(f[0].results[0].property("smtp.mailfrom") == "gmail.com");
    BOOST_TEST(f[0].results[1].comment == "body hash did not verify");
    BOOST_TEST(f[0].results[2].property("action") == "none");
    BOOST_TEST(f[0].results[3].method == "compauth");
    BOOST_TEST(f[0].results[3].reason == "100");
    const auto v = evaluate_auth(microsoft365, {});
    BOOST_TEST(v.topmost_only);
    BOOST_TEST(v.get("spf").pass());
    BOOST_TEST(v.get("dkim").result == "fail");
    BOOST_TEST(describe(v.get("dkim")) == "DKIM fail (body hash did not verify)");
    BOOST_TEST(!v.get("arc").present());
}

BOOST_AUTO_TEST_CASE(fastmail_and_rspamd) {
    const auto v = evaluate_auth(fastmail, {"mx6.messagingengine.com"});
    BOOST_TEST(v.get("dkim").pass());
    BOOST_TEST(v.get("dkim").explanation == "2048-bit rsa key sha256");
    BOOST_TEST(v.get("dmarc").pass());
    BOOST_TEST(v.get("spf").pass());
    BOOST_TEST(v.get("arc").result == "none");
    BOOST_TEST(v.get("arc").explanation == "no signatures found");
    const auto f = auth_results_fields(fastmail);
    BOOST_TEST_REQUIRE(f.size() == 1U);
    BOOST_TEST(f[0].results.size() == 7U);
    BOOST_TEST(f[0].results[1].property("x-bits") == "2048");
    BOOST_TEST(f[0].results[2].property("header.from") == "example.com");

    const auto r = evaluate_auth(rspamd, {});
    BOOST_TEST(r.get("spf").result == "softfail");
    BOOST_TEST(describe(r.get("spf")).rfind("SPF softfail (mail.example.org: domain of", 0) == 0U);
    BOOST_TEST(describe(r.get("dmarc")) == "DMARC pass (policy=reject) at mail.example.org");
}

BOOST_AUTO_TEST_CASE(opendkim_opendmarc_policyd_spf_fields_by_one_authserv_id) {
    const auto all = evaluate_auth(opendkim_opendmarc, {"MX.mail.test"});
    BOOST_TEST(!all.topmost_only);
    BOOST_TEST(all.fields_seen == 4U);
    BOOST_TEST(all.fields_trusted == 4U);
    BOOST_TEST(all.get("dmarc").result == "fail");
    BOOST_TEST(all.get("dmarc").explanation == "p=reject dis=none");
    // reason= wins over the comment; the topmost field with DKIM decides, not the forged one.
    BOOST_TEST(describe(all.get("dkim")) ==
               "DKIM fail (signature verification failed) at mx.mail.test");
    BOOST_TEST(all.get("spf").pass());  // a ';' inside the comment does not end the result
    const auto spf = parse_auth_results(
        mailprobe::relay::header_values(opendkim_opendmarc, "Authentication-Results")[2]);
    BOOST_TEST_REQUIRE(spf.has_value());
    BOOST_TEST(spf->results.size() == 1U);
    BOOST_TEST(spf->results[0].property("smtp.mailfrom") == "relay.test");

    // Without --authserv-id only the topmost field counts: DMARC known, the rest absent.
    const auto top = evaluate_auth(opendkim_opendmarc, {});
    BOOST_TEST(top.topmost_only);
    BOOST_TEST(top.fields_trusted == 1U);
    BOOST_TEST(top.get("dmarc").result == "fail");
    BOOST_TEST(!top.get("dkim").present());
    BOOST_TEST(!top.get("spf").present());
}

BOOST_AUTO_TEST_CASE(forged_fields_of_other_authserv_ids_are_ignored) {
    const std::string block =
        "Authentication-Results: mx.example.org; dkim=fail (bad signature) header.d=a.example\r\n"
        "Received: from x by mx.example.org; Mon, 2 Oct 2023 08:11:12 +0000\r\n"
        "Authentication-Results: mx.example.org.evil.test; dkim=pass; spf=pass; dmarc=pass\r\n"
        "Authentication-Results: evil.test; dkim=pass; spf=pass; dmarc=pass\r\n"
        "\r\n";
    const auto v = evaluate_auth(block, {"mx.example.org"});
    BOOST_TEST(v.fields_seen == 3U);
    BOOST_TEST(v.fields_trusted == 1U);
    BOOST_TEST(v.get("dkim").result == "fail");
    BOOST_TEST(!v.get("spf").present());
    BOOST_TEST(!v.get("dmarc").present());
    const auto none = evaluate_auth(block, {"other.example"});
    BOOST_TEST(none.fields_trusted == 0U);
    for (const auto* m : {"spf", "dkim", "dmarc", "arc"}) BOOST_TEST(!none.get(m).present());
}

BOOST_AUTO_TEST_CASE(several_dkim_signatures_one_pass_counts) {
    const auto v = evaluate_auth(
        "Authentication-Results: mx.example.org; dkim=fail header.d=old.example; "
        "dkim=pass header.d=example.org; dkim=neutral\r\n",
        {});
    BOOST_TEST(v.get("dkim").pass());
}

BOOST_AUTO_TEST_CASE(grammar_corners) {
    struct Case {
        std::string value;
        std::string authserv_id;
        std::vector<std::string> results;  // "method=result"
    };
    const std::vector<Case> cases{
        {"example.org 1; none", "example.org", {}},
        {"example.org; none", "example.org", {}},
        {"\"quoted id\"; spf=pass", "quoted id", {"spf=pass"}},
        {"(c) example.org (c) ; (c) dkim (c) = (c) pass (c) header.d = x",
         "example.org",
         {"dkim=pass"}},
        {"example.org; dkim/1=PASS; SPF=Fail", "example.org", {"dkim=pass", "spf=fail"}},
        {"example.org; ;; spf=pass; junk; =; a.b=c", "example.org", {"spf=pass"}},
        {"example.org; spf=pass reason=\"a;b\"", "example.org", {"spf=pass"}},
        {"example.org; spf=pass (unclosed comment; dkim=pass", "example.org", {"spf=pass"}},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.value) {
            const auto f = parse_auth_results(c.value);
            BOOST_TEST_REQUIRE(f.has_value());
            BOOST_TEST(f->authserv_id == c.authserv_id);
            std::vector<std::string> got;
            for (const auto& r : f->results) got.push_back(r.method + "=" + r.result);
            BOOST_TEST(got == c.results, boost::test_tools::per_element());
        }
    }
    BOOST_TEST(!parse_auth_results("").has_value());
    BOOST_TEST(!parse_auth_results("   (only a comment)  ").has_value());
    BOOST_TEST(!parse_auth_results(std::string(mailprobe::relay::max_field_bytes + 1, 'x')));
    BOOST_TEST(parse_auth_results("a; spf=pass reason=\"a;b\"")->results[0].reason == "a;b");
}

BOOST_AUTO_TEST_CASE(describe_is_safe_for_a_status_line) {
    MethodVerdict m{"dkim", "fail", "bad | sig\r\nX-Injected: 1", "mx|evil"};
    const std::string d = describe(m);
    BOOST_TEST(d.find('|') == std::string::npos);
    BOOST_TEST(d.find('\n') == std::string::npos);
    BOOST_TEST(d.rfind("DKIM fail (bad ? sig??X-Injected: 1) at mx?evil", 0) == 0U);
}

BOOST_AUTO_TEST_CASE(empty_method_or_result_is_no_result) {
    // Found by fuzz_auth_results: a quoted empty result, and a method that is only a version.
    const auto f = parse_auth_results("mx.example.org; spf=\"\"; /1=pass; dkim=pass");
    BOOST_TEST_REQUIRE(f.has_value());
    BOOST_TEST_REQUIRE(f->results.size() == 1U);
    BOOST_TEST(f->results[0].method == "dkim");
}
