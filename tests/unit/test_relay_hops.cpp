// checks::hops_result and checks::hop_matches (common/checks/relay.hpp): how check_mail_relay
// judges the path a delivered probe took, on Received header samples of real MTAs.
#define BOOST_TEST_MODULE relay_hops
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <ostream>
#include <string>
#include <vector>

#include "checks/relay.hpp"
#include "relay/received.hpp"
#include "support.hpp"

using namespace mailprobe;
using namespace mailprobe::test;

using checks::hop_matches;
using checks::hops_result;
using relay::Hop;
using relay::received_path;

namespace {

// 2023-10-02 08:11:12 UTC
constexpr std::int64_t t0 = 1696234272;
constexpr std::int64_t sent_ms = t0 * 1000 + 400;  // the probe was sent 0.4 s into t0

// What the test stack writes: submission to relay.test (Postfix #2, AUTH), relayed to
// mx.mail.test (Postfix #1). Newest first, as in a message; CRLF and tab folding.
const std::string postfix_chain =
    "Return-Path: <t23@mail.test>\r\n"
    "Delivered-To: t23@mail.test\r\n"
    "Received: from relay.test (unknown [127.0.0.1])\r\n"
    "\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)\r\n"
    "\t key-exchange X25519 server-signature ECDSA (prime256v1) server-digest SHA256)\r\n"
    "\t(No client certificate requested)\r\n"
    "\tby mx.mail.test (Postfix) with ESMTPS id E051CA720DB\r\n"
    "\tfor <t23@mail.test>; Mon, 2 Oct 2023 08:11:15 +0000 (UTC)\r\n"
    "Received: from vm (unknown [127.0.0.1])\r\n"
    "\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)\r\n"
    "\t key-exchange X25519 server-signature ECDSA (prime256v1) server-digest SHA256)\r\n"
    "\t(No client certificate requested)\r\n"
    "\tby relay.test (Postfix) with ESMTPSA id DDA58A72191\r\n"
    "\tfor <t23@mail.test>; Mon, 2 Oct 2023 10:11:13 +0200 (CEST)\r\n"
    "Date: Mon, 2 Oct 2023 08:11:12 +0000\r\n"
    "Subject: [mailprobe] probe\r\n"
    "\r\n";

// A mixed chain: Exim smarthost -> Exchange Online -> Gmail -> Sendmail, LF line ends,
// obsolete zones and a two-digit year.
const std::string mixed_chain =
    "Received: from mail-ej1-f41.google.com (mail-ej1-f41.google.com [209.85.218.41])\n"
    "    by mail.example.net (8.15.2/8.15.2) with ESMTPS id 392ABCDE012345\n"
    "    for <u@example.net>; Mon, 2 Oct 2023 04:11:42 EDT\n"
    "Received: by 2002:a05:6358:5e05:b0:13c:f2ab:1234 with SMTP id d5csp1234567rwb;\n"
    "        Mon, 2 Oct 2023 01:11:22 -0700 (PDT)\n"
    "Received: from AM6PR04MB1234.eurprd04.prod.outlook.com (2603:10a6:20b:2b::12) by\n"
    " AM6PR04MB5678.eurprd04.prod.outlook.com (2603:10a6:20b:f0::18) with Microsoft SMTP\n"
    " Server (version=TLS1_2, cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id\n"
    " 15.20.6838.33; Mon, 2 Oct 23 08:11:14 GMT\n"
    "Received: from [192.0.2.1] (helo=client.example.org)\n"
    "\tby smarthost.example.com with esmtpsa (TLS1.3) tls TLS_AES_256_GCM_SHA384\n"
    "\t(Exim 4.96) (envelope-from <a@example.org>) id 1qAbCd-000123-4X\n"
    "\tfor u@example.net; Mon, 02 Oct 2023 10:11:13 +0200\n"
    "\n";

Thresholds thresholds(const char* warning, const char* critical) {
    Thresholds t;
    if (warning) t.warning = Range::parse(warning);
    if (critical) t.critical = Range::parse(critical);
    return t;
}

const PerfDatum* datum(const CheckResult& r, const std::string& label) {
    auto it = std::find_if(r.perfdata.begin(), r.perfdata.end(),
                           [&](const PerfDatum& d) { return d.label == label; });
    return it == r.perfdata.end() ? nullptr : &*it;
}

std::vector<std::string> labels(const CheckResult& r) {
    std::vector<std::string> out;
    for (const auto& d : r.perfdata) out.push_back(d.label);
    return out;
}

Hop hop_by(const std::string& by) {
    Hop h;
    h.received.by = by;
    return h;
}

}  // namespace

// ---------------------------------------------------------------- hop_matches

BOOST_AUTO_TEST_CASE(plain_pattern_matches_part_of_the_receiving_host_case_insensitive) {
    const Hop mx = hop_by("MX.Mail.Test");
    BOOST_TEST(hop_matches(mx, "mx.mail.test"));
    BOOST_TEST(hop_matches(mx, "mail"));
    BOOST_TEST(hop_matches(mx, "MAIL.TEST"));
    BOOST_TEST(hop_matches(mx, ".test"));
    BOOST_TEST(!hop_matches(mx, "relay.test"));
    BOOST_TEST(!hop_matches(mx, "mx.mail.test.example"));
    BOOST_TEST(!hop_matches(mx, ""));  // an empty pattern matches nothing
}

BOOST_AUTO_TEST_CASE(pattern_matches_the_by_host_not_the_from_host) {
    Hop h = hop_by("mx.mail.test");
    h.received.from = "relay.test";
    h.received.from_detail = "(relay.test [127.0.0.1])";
    h.received.by_detail = "(Postfix)";
    BOOST_TEST(!hop_matches(h, "relay"));
    BOOST_TEST(!hop_matches(h, "Postfix"));
    BOOST_TEST(hop_matches(h, "mx"));
}

BOOST_AUTO_TEST_CASE(wildcards_match_the_whole_host) {
    const Hop mx = hop_by("mx1.mail.test");
    BOOST_TEST(hop_matches(mx, "mx*.mail.test"));
    BOOST_TEST(hop_matches(mx, "MX?.MAIL.TEST"));
    BOOST_TEST(hop_matches(mx, "mx[0-9].mail.test"));
    BOOST_TEST(hop_matches(mx, "*"));
    BOOST_TEST(hop_matches(mx, "*.test"));
    BOOST_TEST(!hop_matches(mx, "mx*.mail"));  // wildcards anchor: no part match
    BOOST_TEST(!hop_matches(mx, "mail*"));
    BOOST_TEST(!hop_matches(mx, "mx[2-9].mail.test"));
    BOOST_TEST(!hop_matches(hop_by("relay.test"), "mx*.mail.test"));
}

BOOST_AUTO_TEST_CASE(hosts_from_real_samples_match) {
    const auto hops = received_path(mixed_chain);
    BOOST_TEST_REQUIRE(hops.size() == 4U);
    BOOST_TEST(hop_matches(hops[0], "smarthost.example.com"));
    BOOST_TEST(hop_matches(hops[1], "*.prod.outlook.com"));
    BOOST_TEST(hop_matches(hops[1], "eurprd04"));
    BOOST_TEST(hop_matches(hops[2], "2002:a05:6358"));  // Gmail's IPv6 "host"
    BOOST_TEST(hop_matches(hops[3], "mail.example.net"));
    BOOST_TEST(!hop_matches(hops[3], "google"));  // only in the from clause
}

// ---------------------------------------------------------------- hops_result: the path

BOOST_AUTO_TEST_CASE(postfix_relay_chain_two_hops_ok) {
    const auto hops = received_path(postfix_chain);
    BOOST_TEST_REQUIRE(hops.size() == 2U);
    const CheckResult r = hops_result(hops, sent_ms, {}, {});
    BOOST_TEST(r.status == Status::ok);
    BOOST_TEST(r.summary == "path: vm -> relay.test -> mx.mail.test (2.0 s)");
    BOOST_TEST_REQUIRE(r.details.size() == 2U);
    BOOST_TEST(r.details[0].text == "hop 1: vm -> relay.test with ESMTPSA, 1 s");
    BOOST_TEST(r.details[1].text == "hop 2: relay.test -> mx.mail.test with ESMTPS, 2 s");
    BOOST_TEST(labels(r) == (std::vector<std::string>{"hop1_delay", "hop2_delay"}),
               boost::test_tools::per_element());
    // The first hop counts from the send time on the whole-second scale of Received dates.
    BOOST_TEST(datum(r, "hop1_delay")->value == 1.0);
    BOOST_TEST(datum(r, "hop2_delay")->value == 2.0);
    for (const auto& d : r.perfdata) {
        BOOST_TEST((d.unit == Unit::seconds));
        BOOST_TEST(d.min.value() == 0.0);
        BOOST_TEST(!d.warning.has_value());
        BOOST_TEST(!d.critical.has_value());
    }
}

BOOST_AUTO_TEST_CASE(mixed_mta_chain_four_hops_in_order) {
    const auto hops = received_path(mixed_chain);
    const CheckResult r = hops_result(hops, sent_ms, {}, {});
    BOOST_TEST(r.status == Status::ok);
    BOOST_TEST_REQUIRE(r.details.size() == 4U);
    BOOST_TEST(r.details[0].text ==
               "hop 1: [192.0.2.1] -> smarthost.example.com with esmtpsa, 1 s");
    BOOST_TEST(contains(r.details[1].text,
                        "-> AM6PR04MB5678.eurprd04.prod.outlook.com with Microsoft, 1 s"));
    BOOST_TEST(contains(r.details[2].text,
                        "hop 3: ? -> 2002:a05:6358:5e05:b0:13c:f2ab:1234 with SMTP, 8 s"));
    BOOST_TEST(contains(r.details[3].text, "-> mail.example.net with ESMTPS, 20 s"));
    BOOST_TEST(labels(r) == (std::vector<std::string>{"hop1_delay", "hop2_delay", "hop3_delay",
                                                      "hop4_delay"}),
               boost::test_tools::per_element());
    BOOST_TEST(datum(r, "hop4_delay")->value == 20.0);
}

BOOST_AUTO_TEST_CASE(no_received_fields) {
    const CheckResult r = hops_result(received_path("Subject: x\r\n\r\nbody"), sent_ms, {}, {});
    BOOST_TEST(r.status == Status::ok);
    BOOST_TEST(r.summary == "path: no Received fields");
    BOOST_TEST(r.details.empty());
    BOOST_TEST(r.perfdata.empty());
}

// ---------------------------------------------------------------- clock skew, unknown times

BOOST_AUTO_TEST_CASE(first_hop_before_the_send_time_is_skew_shown_as_zero) {
    // relay.test's clock is 5 s behind ours
    const std::string block =
        "Received: from relay.test by mx.mail.test with ESMTP; Mon, 2 Oct 2023 08:11:09 +0000\n"
        "Received: from vm by relay.test with ESMTPSA; Mon, 2 Oct 2023 08:11:07 +0000\n";
    const CheckResult r = hops_result(received_path(block), sent_ms, {}, thresholds("5", "10"));
    BOOST_TEST(r.status == Status::ok);
    BOOST_TEST_REQUIRE(r.details.size() == 2U);
    BOOST_TEST(r.details[0].text ==
               "hop 1: vm -> relay.test with ESMTPSA, 0 s (clock skew: negative delay shown as 0)");
    BOOST_TEST(datum(r, "hop1_delay")->value == 0.0);
    BOOST_TEST(datum(r, "hop2_delay")->value == 2.0);  // hop 2: 08:11:07 -> 08:11:09
    BOOST_TEST(r.details[1].text == "hop 2: relay.test -> mx.mail.test with ESMTP, 2 s");
}

BOOST_AUTO_TEST_CASE(later_hop_skew_is_never_a_negative_perfdata_value) {
    const std::string block =
        "Received: from b by c; Mon, 2 Oct 2023 08:11:11 +0000\n"  // 30 s before hop 1
        "Received: from a by b; Mon, 2 Oct 2023 08:11:41 +0000\n";
    const CheckResult r = hops_result(received_path(block), sent_ms, {}, thresholds("10", "20"));
    BOOST_TEST_REQUIRE(r.details.size() == 2U);
    // hop 1 is 29 s after sending: critical; hop 2's -30 s is skew, 0, not an alert
    BOOST_TEST(r.status == Status::critical);
    BOOST_TEST(contains(r.details[1].text, "0 s (clock skew: negative delay shown as 0)"));
    BOOST_TEST(!contains(r.details[1].text, "["));
    for (const auto& d : r.perfdata) BOOST_TEST(d.value >= 0.0);
    BOOST_TEST(datum(r, "hop2_delay")->value == 0.0);
}

BOOST_AUTO_TEST_CASE(undated_hop_has_no_perfdata_and_is_not_judged) {
    const std::string block =
        "Received: from b by c with LMTP; Mon, 2 Oct 2023 08:11:16 +0000\n"
        "Received: from a by b with SMTP\n"  // no date
        "Received: by a; Mon, 2 Oct 2023 08:11:12 +0000\n";
    // every dated hop alerts; the undated one cannot be judged
    const CheckResult r =
        hops_result(received_path(block), sent_ms, {}, thresholds("@0:1000", nullptr));
    BOOST_TEST_REQUIRE(r.details.size() == 3U);
    BOOST_TEST(r.details[0].text == "hop 1: ? -> a, 0 s [WARNING]");
    BOOST_TEST(r.details[1].text == "hop 2: a -> b with SMTP, time unknown");
    BOOST_TEST(r.details[2].text == "hop 3: b -> c with LMTP, 4 s [WARNING]");
    BOOST_TEST(labels(r) == (std::vector<std::string>{"hop1_delay", "hop3_delay"}),
               boost::test_tools::per_element());
    BOOST_TEST(datum(r, "hop3_delay")->value == 4.0);  // from hop 1, the last dated one
    BOOST_TEST(r.status == Status::warning);
}

// ---------------------------------------------------------------- --expect-hop

BOOST_AUTO_TEST_CASE(expected_hops_in_order_pass) {
    const auto hops = received_path(postfix_chain);
    for (const auto& expect : std::vector<std::vector<std::string>>{{"relay.test"},
                                                                    {"mx.mail.test"},
                                                                    {"relay.test", "mx.mail.test"},
                                                                    {"RELAY", "mx*.test"},
                                                                    {"*", "*"},
                                                                    {"test", "test"}}) {
        const CheckResult r = hops_result(hops, sent_ms, expect, {});
        BOOST_TEST_INFO("expect " << expect.front() << " ...: " << r.summary);
        BOOST_TEST(r.status == Status::ok);
        BOOST_TEST(r.summary.starts_with("path: "));
    }
}

BOOST_AUTO_TEST_CASE(expected_hop_missing_is_critical_with_the_path) {
    const auto hops = received_path(postfix_chain);
    const CheckResult r = hops_result(hops, sent_ms, {"relay.test", "backup.mail.test"}, {});
    BOOST_TEST(r.status == Status::critical);
    BOOST_TEST(r.summary ==
               "expected hop 2 'backup.mail.test' missing; path was: vm -> relay.test -> "
               "mx.mail.test (2.0 s)");
    // the hops are still reported
    BOOST_TEST(r.details.size() == 2U);
    BOOST_TEST(r.perfdata.size() == 2U);
}

BOOST_AUTO_TEST_CASE(expected_hops_out_of_order_are_critical) {
    const auto hops = received_path(postfix_chain);
    const CheckResult r = hops_result(hops, sent_ms, {"mx.mail.test", "relay.test"}, {});
    BOOST_TEST(r.status == Status::critical);
    BOOST_TEST(r.summary.starts_with("expected hop 2 'relay.test' missing; path was: "));
}

BOOST_AUTO_TEST_CASE(one_hop_does_not_satisfy_two_patterns) {
    const auto hops = received_path(postfix_chain);
    const CheckResult r = hops_result(hops, sent_ms, {"mx.mail.test", "mx.mail.test"}, {});
    BOOST_TEST(r.status == Status::critical);
    BOOST_TEST(r.summary.starts_with("expected hop 2 'mx.mail.test' missing"));
    const CheckResult first = hops_result(hops, sent_ms, {"nowhere.example"}, {});
    BOOST_TEST(first.summary.starts_with("expected hop 1 'nowhere.example' missing"));
}

BOOST_AUTO_TEST_CASE(expected_hop_with_no_received_fields_says_so) {
    const CheckResult r = hops_result({}, sent_ms, {"relay.test"}, {});
    BOOST_TEST(r.status == Status::critical);
    BOOST_TEST(r.summary == "expected hop 1 'relay.test' missing; path was: no Received fields");
}

BOOST_AUTO_TEST_CASE(missing_hop_outranks_a_slow_hop) {
    const auto hops = received_path(postfix_chain);
    const CheckResult r = hops_result(hops, sent_ms, {"elsewhere"}, thresholds("1", nullptr));
    BOOST_TEST(r.status == Status::critical);
    BOOST_TEST(r.summary.starts_with("expected hop 1 'elsewhere' missing"));
}

// ---------------------------------------------------------------- hop thresholds

BOOST_AUTO_TEST_CASE(hop_warning_and_critical_on_any_single_hop) {
    const auto hops = received_path(postfix_chain);  // hop delays 1 s and 2 s
    {
        const CheckResult r = hops_result(hops, sent_ms, {}, thresholds("1.5", "5"));
        BOOST_TEST(r.status == Status::warning);
        // line 1 names the slow hop and its own delay, not the total
        BOOST_TEST(r.summary ==
                   "hop 2 mx.mail.test took 2.0 s; path: vm -> relay.test -> mx.mail.test (2.0 s)");
        BOOST_TEST(r.details[0].text == "hop 1: vm -> relay.test with ESMTPSA, 1 s");
        BOOST_TEST(r.details[1].text ==
                   "hop 2: relay.test -> mx.mail.test with ESMTPS, 2 s [WARNING]");
        const PerfDatum* d = datum(r, "hop2_delay");
        BOOST_TEST_REQUIRE(d != nullptr);
        BOOST_TEST(d->warning->text() == "1.5");
        BOOST_TEST(d->critical->text() == "5");
    }
    {
        const CheckResult r = hops_result(hops, sent_ms, {}, thresholds("0.5", "1.5"));
        BOOST_TEST(r.status == Status::critical);
        BOOST_TEST(r.details[0].text.ends_with("1 s [WARNING]"));
        BOOST_TEST(r.details[1].text.ends_with("2 s [CRITICAL]"));
        // both hops alert: the CRITICAL one is named
        BOOST_TEST(r.summary.starts_with("hop 2 mx.mail.test took 2.0 s; path: "), r.summary);
    }
    {
        // inside-range alerting, as the integration tests use to force an alert
        const CheckResult w = hops_result(hops, sent_ms, {}, thresholds("@0:1000", nullptr));
        BOOST_TEST(w.status == Status::warning);
        const CheckResult c = hops_result(hops, sent_ms, {}, thresholds(nullptr, "@0:1000"));
        BOOST_TEST(c.status == Status::critical);
        const CheckResult ok = hops_result(hops, sent_ms, {}, thresholds("@5:10", "@20:30"));
        BOOST_TEST(ok.status == Status::ok);
        BOOST_TEST(ok.summary.starts_with("path: "));
    }
    {
        // only the first hop (1 s) is slow: it is named, with its own delay
        const CheckResult r = hops_result(hops, sent_ms, {}, thresholds("@0.5:1.5", nullptr));
        BOOST_TEST(r.status == Status::warning);
        BOOST_TEST(r.summary.starts_with("hop 1 relay.test took 1.0 s; path: "), r.summary);
    }
}

BOOST_AUTO_TEST_CASE(first_hop_delay_uses_whole_seconds_of_the_send_time) {
    // Sent at t0 + 0.999 s, received "at" t0 (whole seconds): not skew, 0 s.
    const std::string block = "Received: from vm by relay.test; Mon, 2 Oct 2023 08:11:12 +0000\n";
    const CheckResult r = hops_result(received_path(block), t0 * 1000 + 999, {}, {});
    BOOST_TEST_REQUIRE(r.details.size() == 1U);
    BOOST_TEST(r.details[0].text == "hop 1: vm -> relay.test, 0 s");
    BOOST_TEST(datum(r, "hop1_delay")->value == 0.0);
}
