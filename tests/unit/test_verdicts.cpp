#define BOOST_TEST_MODULE verdicts
#include <boost/test/unit_test.hpp>

#include <string>

#include "checks/verdicts.hpp"
#include "core/error.hpp"
#include "options/option_set.hpp"
#include "options/verdict_options.hpp"

using namespace mailprobe;

namespace {

const std::string header =
    "Authentication-Results: mx.mail.test; dkim=fail (body hash did not verify) "
    "header.d=relay.test; spf=pass smtp.mailfrom=relay.test; dmarc=fail header.from=relay.test\n"
    "Received: from relay.test (localhost [127.0.0.1]) by mx.mail.test (Postfix) with ESMTP "
    "id A1; Fri, 27 Nov 2026 17:32:05 +0000\n"
    "Received: from vm (localhost [127.0.0.1]) (using TLSv1.1 with cipher AES128-SHA (128/128 "
    "bits)) by relay.test (Postfix) with ESMTPSA id B2; Fri, 27 Nov 2026 17:32:04 +0000\n"
    "\n";

VerdictConfig parse(std::vector<const char*> args) {
    OptionSet o("check_test", "test");
    add_verdict_options(o);
    args.insert(args.begin(), "check_test");
    return verdict_config_from(o.parse(static_cast<int>(args.size()), args.data()));
}

double perf(const CheckResult& r, const std::string& label) {
    for (const auto& d : r.perfdata) {
        if (d.label == label) return d.value;
    }
    BOOST_FAIL("no perfdata " + label);
    return -1;
}

}  // namespace

BOOST_AUTO_TEST_CASE(auth_reported_with_perfdata_and_judged_only_when_required) {
    const auto v = verdict::evaluate_auth(header, {});
    const CheckResult plain = checks::auth_result(v, VerdictConfig{});
    BOOST_TEST(status_name(plain.status) == std::string("OK"));
    BOOST_TEST(plain.summary ==
               "auth: SPF pass at mx.mail.test, DKIM fail (body hash did not verify) at "
               "mx.mail.test, DMARC fail at mx.mail.test");
    BOOST_TEST(perf(plain, "auth_spf") == 1);
    BOOST_TEST(perf(plain, "auth_dkim") == 0);
    BOOST_TEST(perf(plain, "auth_dmarc") == 0);
    BOOST_TEST(plain.details.front().text.find("only the topmost of 1") != std::string::npos);

    const CheckResult spf_only = checks::auth_result(v, parse({"--require-auth", "SPF"}));
    BOOST_TEST(status_name(spf_only.status) == std::string("OK"));
    const CheckResult dkim = checks::auth_result(v, parse({"--require-auth", "spf,dkim,dmarc"}));
    BOOST_TEST(status_name(dkim.status) == std::string("WARNING"));
    BOOST_TEST(dkim.summary == "DKIM fail (body hash did not verify) at mx.mail.test");
    const CheckResult crit =
        checks::auth_result(v, parse({"--require-auth", "dmarc", "--require-auth-critical"}));
    BOOST_TEST(status_name(crit.status) == std::string("CRITICAL"));
    BOOST_TEST(crit.summary == "DMARC fail at mx.mail.test");
}

BOOST_AUTO_TEST_CASE(tls_judged_after_the_first_hop_only) {
    const auto hops = relay::received_path(header);
    const CheckResult none = checks::tls_result(hops, VerdictConfig{});
    BOOST_TEST(status_name(none.status) == std::string("OK"));
    BOOST_TEST(perf(none, "hops_without_tls") == 1);
    BOOST_TEST_REQUIRE(none.details.size() == 2U);
    BOOST_TEST(none.details[0].text == "tls hop 1: vm -> relay.test: TLSv1.1 AES128-SHA");
    BOOST_TEST(none.details[1].text == "tls hop 2: relay.test -> mx.mail.test: no TLS");

    const CheckResult req = checks::tls_result(hops, parse({"--require-tls"}));
    BOOST_TEST(status_name(req.status) == std::string("WARNING"));
    BOOST_TEST(req.summary == "hop 2 (relay.test -> mx.mail.test) without TLS");
    BOOST_TEST(status_name(checks::tls_result(hops, parse({"--require-tls-critical"})).status) ==
               "CRITICAL");
    // The first hop is our own submission (--smtp-tls governs it): TLS 1.1 there is not judged.
    BOOST_TEST(status_name(checks::tls_result(hops, parse({"--min-tls-version", "1.2"})).status) ==
               std::string("OK"));
    const auto old = relay::received_path(
        "Received: from a by b with ESMTPS (version=TLS1_0, cipher=X) id 1; Mon, 2 Oct 2023 "
        "08:11:13 +0000\nReceived: from c by a with ESMTPSA id 2; Mon, 2 Oct 2023 08:11:12 "
        "+0000\n\n");
    const CheckResult weak = checks::tls_result(old, parse({"--min-tls-version", "1.2"}));
    BOOST_TEST(status_name(weak.status) == std::string("WARNING"));
    BOOST_TEST(weak.summary == "hop 2 (a -> b) with TLSv1.0 (below TLSv1.2)");
}

BOOST_AUTO_TEST_CASE(verdicts_go_in_front_of_the_summary) {
    CheckResult parent;
    parent.summary = "probe delivered in 0.1 s";
    checks::add_delivery_verdicts(parent, header,
                                  parse({"--require-auth", "dkim", "--require-tls"}));
    BOOST_TEST(status_name(overall_status(parent)) == std::string("WARNING"));
    BOOST_TEST(line_summary(parent) ==
               "DKIM fail (body hash did not verify) at mx.mail.test; hop 2 (relay.test -> "
               "mx.mail.test) without TLS; probe delivered in 0.1 s");
    BOOST_TEST(parent.children.size() == 2U);

    CheckResult pop3;
    checks::add_delivery_verdicts(pop3, "", VerdictConfig{});
    BOOST_TEST(pop3.children.empty());
    BOOST_TEST(pop3.details.size() == 1U);
}

BOOST_AUTO_TEST_CASE(option_validation) {
    const auto c = parse({"--authserv-id", "mx.mail.test", "--authserv-id", "mx2.mail.test",
                          "--require-auth", "dkim,DKIM,spf", "--min-tls-version", "1.3"});
    BOOST_TEST(c.authserv_ids.size() == 2U);
    BOOST_TEST(c.require_auth == (std::vector<std::string>{"dkim", "spf"}),
               boost::test_tools::per_element());
    BOOST_TEST(*c.min_tls_version == 13);
    BOOST_TEST(!c.require_tls);
    for (const auto& bad : std::vector<std::vector<const char*>>{{"--require-auth", "spf,ptr"},
                                                                 {"--require-auth", ""},
                                                                 {"--require-auth", "spf\r\n"},
                                                                 {"--min-tls-version", "1.4"},
                                                                 {"--min-tls-version", "SSLv3"},
                                                                 {"--min-tls-version", "1.2\n"},
                                                                 {"--authserv-id", ""},
                                                                 {"--authserv-id", "mx\r\nX"}}) {
        BOOST_TEST_CONTEXT(bad[0]) {
            BOOST_CHECK_THROW(parse(bad), UsageError);
        }
    }
}
