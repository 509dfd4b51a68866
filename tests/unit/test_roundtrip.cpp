// Judging a round trip (checks::roundtrip_result) without a network: a run as
// execute_roundtrip would have left it, against a configuration parsed from real options.
// What line 1 says and which state it has for: delivered within or beyond -w/-c, delivered to
// a junk folder, not found within --wait, bounced, delayed; and what the long output and the
// perfdata add (stale probes, DSNs, the \Deleted pile-up, --keep, -v, verdicts, certificates).
#define BOOST_TEST_MODULE roundtrip
#include <algorithm>
#include <string>
#include <vector>

#include "checks/roundtrip.hpp"
#include "output/render.hpp"
#include "probe_test_util.hpp"
#include "support.hpp"

using namespace mailprobe;
using namespace mailprobe::checks;
using mailprobe::test::contains;

namespace {

RoundTripConfig config(std::vector<std::string> extra = {}) {
    return probe_test::roundtrip_config(std::move(extra));
}

const std::string k_id = "0123456789abcdef0123456789abcdef";
constexpr std::int64_t k_sent_ms = 1795800725000;  // 2026-11-27 17:32:05 UTC
const std::string k_mailbox = "probe on 127.0.0.1:143/INBOX";
const std::string k_via = "SMTP mx.example.org:25";

// A run whose probe was accepted by mx.example.org:25 and not (yet) found.
RoundTripRun sent_run() {
    RoundTripRun run;
    run.probe.id = k_id;
    run.probe.sent_ms = k_sent_ms;
    run.sent.via = k_via;
    curl::Endpoint smtp;
    smtp.protocol = curl::Protocol::smtp;
    smtp.host = "mx.example.org";
    smtp.port = 25;
    run.sent.server = smtp;
    run.sent.outcome.connect_s = 0.002;
    run.sent.outcome.transaction_s = 0.05;
    run.sent.outcome.total_s = 0.052;
    run.sent.outcome.reply = "250 2.0.0 Ok: queued as 4F1A2B";
    run.sent.outcome.queue_id = "4F1A2B";
    run.mailbox.login.connect_s = 0.001;
    run.mailbox.login.login_s = 0.02;
    return run;
}

// The same run once the probe was found in `folder` after delivery_s.
RoundTripRun delivered_run(double delivery_s, const std::string& folder = "INBOX") {
    RoundTripRun run = sent_run();
    Arrival arrival;
    arrival.found.probe = run.probe;
    arrival.found.folder = folder;
    arrival.found.ref = 42;
    arrival.search_s = 0.012;
    run.arrival = arrival;
    run.delivery_s = delivery_s;
    run.delete_s = 0.004;
    return run;
}

verdict::Dsn dsn(verdict::DsnAction action, std::string status, std::string diagnostic) {
    verdict::Dsn d;
    d.action = action;
    d.reporting_mta = "mx2.example.org";
    d.status = std::move(status);
    d.diagnostic = std::move(diagnostic);
    return d;
}

CheckResult judge(const RoundTripConfig& c, const RoundTripRun& run) {
    return roundtrip_result(c, run, Deadline::for_timeout(c.standard.timeout_s));
}

// Line 1 as the runner prints it, without the "time" datum (it measures this test).
std::string line1(const CheckResult& r) {
    std::string out = render("MAIL ROUNDTRIP", r);
    out = out.substr(0, out.find('\n'));
    auto at = out.find(" time=");
    BOOST_REQUIRE(at != std::string::npos);
    auto end = out.find(' ', at + 1);
    return out.erase(at, end == std::string::npos ? std::string::npos : end - at);
}

std::string perfdata_text(const CheckResult& r) {
    auto l = line1(r);
    return l.substr(l.find(" | ") + 3);
}

bool has_detail(const CheckResult& r, const std::string& text) {
    return std::find(r.details.begin(), r.details.end(), text) != r.details.end();
}

const std::string k_base_perfdata =
    "smtp_connect=0.002s;;;0 smtp_transaction=0.05s;;;0 "
    "mailbox_connect=0.001s;;;0 mailbox_login=0.02s;;;0";

}  // namespace

BOOST_AUTO_TEST_CASE(delivered_within_thresholds_is_ok_with_delivery_perfdata) {
    auto r = judge(config(), delivered_run(1.234));
    BOOST_TEST(overall_status(r) == Status::ok);
    BOOST_TEST(line1(r) == "MAIL ROUNDTRIP OK - probe delivered in 1.2 s (" + k_via + " -> " +
                               k_mailbox +
                               ") | delivery=1.234s;10;30;0 mailbox_search=0.012s;;;0 "
                               "mailbox_delete=0.004s;;;0 stale_removed=0;;;0 " +
                               k_base_perfdata);
    BOOST_TEST(r.children.size() == 2U);
    BOOST_TEST(r.children.at(0).summary ==
               "send: accepted by mx.example.org:25 in 50 ms (queued as 4F1A2B)");
    BOOST_TEST(r.children.at(1).summary == "mailbox: logged in to " + k_mailbox + " in 21 ms");
}

BOOST_AUTO_TEST_CASE(delivery_time_is_judged_by_w_and_c) {
    struct Case {
        double delivery_s;
        Status status;
        std::string summary;
    };
    const std::vector<Case> cases = {
        {1.9, Status::ok, "probe delivered in 1.9 s ("},
        {2.0, Status::ok, "probe delivered in 2 s ("},  // a range's end is inside it
        {2.5, Status::warning, "probe delivered in 2.5 s ("},
        {5.0, Status::warning, "probe delivered in 5 s ("},
        {5.5, Status::critical, "probe delivered in 5.5 s ("},
    };
    auto c = config({"-w", "2", "-c", "5"});
    for (const auto& t : cases) {
        BOOST_TEST_CONTEXT("delivery " << t.delivery_s) {
            auto r = judge(c, delivered_run(t.delivery_s));
            BOOST_TEST(r.status == t.status);
            std::string tail = t.status == Status::ok ? ")" : "), beyond threshold";
            BOOST_TEST(r.summary == t.summary + k_via + " -> " + k_mailbox + tail);
            BOOST_TEST(contains(perfdata_text(r), ";2;5;0 "));
        }
    }
}

BOOST_AUTO_TEST_CASE(a_probe_in_a_junk_folder_is_at_least_warning_and_says_where) {
    struct Case {
        double delivery_s;
        Status status;
        std::string took;
    };
    const std::vector<Case> cases = {
        {1.2, Status::warning, "1.2 s"},
        {3.0, Status::warning, "3 s"},
        {6.0, Status::critical, "6 s"},  // beyond -c: the threshold decides
    };
    auto c = config({"-w", "2", "-c", "5"});
    for (const auto& t : cases) {
        BOOST_TEST_CONTEXT("delivery " << t.delivery_s) {
            auto r = judge(c, delivered_run(t.delivery_s, "Junk"));
            BOOST_TEST(r.status == t.status);
            BOOST_TEST(r.summary == "probe delivered to Junk instead of INBOX in " + t.took);
            BOOST_TEST(contains(perfdata_text(r), "delivery="));
        }
    }
}

BOOST_AUTO_TEST_CASE(a_probe_not_found_within_wait_is_critical_naming_it) {
    for (auto [args, waited] : std::vector<std::pair<std::vector<std::string>, std::string>>{
             {{}, "35 s"}, {{"--wait", "12"}, "12 s"}, {{"-t", "10"}, "7 s"}}) {
        BOOST_TEST_CONTEXT(waited) {
            auto r = judge(config(args), sent_run());
            BOOST_TEST(overall_status(r) == Status::critical);
            BOOST_TEST(line1(r) == "MAIL ROUNDTRIP CRITICAL - probe " + k_id +
                                       " sent 17:32:05 UTC via " + k_via + " not in " + k_mailbox +
                                       " after " + waited + " | stale_removed=0;;;0 " +
                                       k_base_perfdata);
        }
    }
}

BOOST_AUTO_TEST_CASE(a_bounce_is_critical_naming_the_reporting_mta_and_status) {
    auto run = sent_run();
    run.bounce = dsn(verdict::DsnAction::failed, "5.1.1",
                     "550 5.1.1 <nobody@example.org>: "
                     "Recipient address rejected");
    auto r = judge(config(), run);
    BOOST_TEST(overall_status(r) == Status::critical);
    BOOST_TEST(r.summary ==
               "probe bounced by mx2.example.org: 5.1.1 550 5.1.1 "
               "<nobody@example.org>: Recipient address rejected");
    BOOST_TEST(has_detail(r, "probe " + k_id + " sent 17:32:05 UTC via " + k_via));
    BOOST_TEST(!contains(perfdata_text(r), "delivery="));
}

BOOST_AUTO_TEST_CASE(a_probe_that_arrived_is_judged_by_its_arrival_even_after_a_bounce) {
    auto run = delivered_run(1.0);
    run.bounce = dsn(verdict::DsnAction::failed, "5.1.1", "550 5.1.1 unknown");
    auto r = judge(config(), run);
    BOOST_TEST(r.status == Status::ok);
    BOOST_TEST(r.summary.starts_with("probe delivered in 1 s ("));
}

BOOST_AUTO_TEST_CASE(delays_make_warning_and_come_first_on_line_1) {
    auto delay = dsn(verdict::DsnAction::delayed, "4.4.1", "connect to mx3.example.org: timed out");
    const std::string said =
        "delayed at mx2.example.org: 4.4.1 connect to mx3.example.org: "
        "timed out; ";
    auto c = config({"-w", "2", "-c", "5"});

    auto delivered = delivered_run(1.0);
    delivered.delays = {delay, dsn(verdict::DsnAction::delayed, "4.4.2", "later")};
    auto r = judge(c, delivered);
    BOOST_TEST(overall_status(r) == Status::warning);
    BOOST_TEST(line_summary(r) ==
               said + "probe delivered in 1 s (" + k_via + " -> " + k_mailbox + ")");

    auto late = delivered_run(6.0);  // already CRITICAL: stays so
    late.delays = {delay};
    r = judge(c, late);
    BOOST_TEST(overall_status(r) == Status::critical);
    BOOST_TEST(line_summary(r).starts_with(said + "probe delivered in 6 s ("));

    auto missing = sent_run();
    missing.delays = {delay};
    r = judge(c, missing);
    BOOST_TEST(overall_status(r) == Status::critical);
    BOOST_TEST(line_summary(r).starts_with(said + "probe " + k_id + " sent "));
}

BOOST_AUTO_TEST_CASE(dsns_removed_or_ignored_are_said_in_the_long_output) {
    auto run = delivered_run(1.0);
    run.dsn_removed = 2;
    run.dsn_ignored = 1;
    auto r = judge(config(), run);
    BOOST_TEST(r.status == Status::ok);
    BOOST_TEST(has_detail(r, "removed 2 delivery status notification(s) about this probe"));
    BOOST_TEST(has_detail(r, "ignored 1 DSN(s) quoting a probe tag that does not verify"));

    r = judge(config(), delivered_run(1.0));
    for (const auto& d : r.details) BOOST_TEST(!contains(d.text, "DSN"), d);
    for (const auto& d : r.details) BOOST_TEST(!contains(d.text, "delivery status"), d);
}

BOOST_AUTO_TEST_CASE(stale_probes_removed_are_counted_on_line_1_and_in_perfdata) {
    for (bool found : {true, false}) {
        BOOST_TEST_CONTEXT("found " << found) {
            auto run = found ? delivered_run(1.0) : sent_run();
            run.stale_removed = 3;
            auto r = judge(config(), run);
            BOOST_TEST(r.status == (found ? Status::ok : Status::critical));
            BOOST_TEST(r.summary.ends_with("; removed 3 stale probes"));
            BOOST_TEST(has_detail(r, "removed 3 stale probe(s) of earlier runs"));
            BOOST_TEST(contains(perfdata_text(r), "stale_removed=3;;;0"));
        }
    }
}

BOOST_AUTO_TEST_CASE(a_pile_up_of_flagged_probes_warns_on_line_1) {
    auto run = delivered_run(1.0);
    run.mailbox.flagged_probes = k_flagged_warning;
    auto r = judge(config(), run);
    BOOST_TEST(overall_status(r) == Status::warning);
    BOOST_TEST(
        line_summary(r).ends_with(")" + std::string("; 100 probe(s) of this check lie flagged "
                                                    "\\Deleted in INBOX; expunge them with a "
                                                    "mail client when nothing else is flagged "
                                                    "\\Deleted, or enable UIDPLUS on the server")));
    BOOST_TEST(contains(perfdata_text(r), "probes_flagged=100;;;0"));

    run.mailbox.flagged_probes = k_flagged_warning - 1;
    r = judge(config(), run);
    BOOST_TEST(overall_status(r) == Status::ok);
    BOOST_TEST(r.summary.ends_with(k_mailbox + ")"));
    BOOST_TEST(contains(perfdata_text(r), "probes_flagged=99;;;0"));
}

BOOST_AUTO_TEST_CASE(keep_leaves_out_the_delete_time_and_v_shows_what_became_of_the_probe) {
    struct Case {
        std::vector<std::string> args;
        bool delete_datum;
        std::string detail;  // empty: no such line
    };
    const std::string probe = "probe " + k_id + " of check '";
    const std::vector<Case> cases = {
        {{}, true, "' deleted"},
        {{"--keep"}, false, "' kept in the mailbox"},
    };
    for (const auto& t : cases) {
        auto c = config(t.args);
        auto r = judge(c, delivered_run(1.0));
        BOOST_TEST_CONTEXT(t.args.size() << " args, detail '" << t.detail << "'") {
            BOOST_TEST(contains(perfdata_text(r), "mailbox_delete=0.004s") == t.delete_datum);
            auto line =
                std::find(r.details.begin(), r.details.end(), probe + c.identity.name + t.detail);
            BOOST_REQUIRE(line != r.details.end());
            BOOST_TEST((line->level == Verbosity::verbose));  // shown with -v
        }
    }
}

BOOST_AUTO_TEST_CASE(configuration_notes_lead_the_long_output) {
    auto c = config();
    c.warnings = {"first note", "second note"};
    auto r = judge(c, delivered_run(1.0));
    BOOST_REQUIRE(r.details.size() >= 2U);
    BOOST_TEST(r.details.at(0) == "note: first note");
    BOOST_TEST(r.details.at(1) == "note: second note");
}

BOOST_AUTO_TEST_CASE(verdicts_are_judged_only_for_a_delivered_probe) {
    // No header (POP3 without TOP, say): said, not judged.
    auto r = judge(config(), delivered_run(1.0));
    BOOST_TEST(
        has_detail(r, "no header of the delivered probe: no SPF/DKIM/DMARC or TLS verdicts"));
    BOOST_TEST(r.children.size() == 2U);

    // A required method that failed goes in front of the delivery.
    auto c = config({"--authserv-id", "mx.example.org", "--require-auth", "spf"});
    auto run = delivered_run(1.0);
    run.arrival->found.header =
        "Authentication-Results: mx.example.org; spf=fail smtp.mailfrom=probe@example.org\r\n"
        "Received: from a.example.org by mx.example.org with ESMTP; "
        "Fri, 27 Nov 2026 17:32:06 +0000\r\n";
    r = judge(c, run);
    BOOST_REQUIRE(r.children.size() == 4U);
    const auto& auth = r.children.at(2);
    BOOST_TEST(auth.status == Status::warning);
    BOOST_TEST(contains(auth.summary, "SPF fail"), auth.summary);
    BOOST_TEST(line_summary(r) ==
               auth.summary + "; probe delivered in 1 s (" + k_via + " -> " + k_mailbox + ")");
    BOOST_TEST(overall_status(r) == Status::warning);

    // Not found: nothing to judge.
    r = judge(c, sent_run());
    BOOST_TEST(r.children.size() == 2U);
}

BOOST_AUTO_TEST_CASE(an_expiring_certificate_is_named_on_line_1) {
    auto run = delivered_run(1.0);
    run.sent.server->tls = curl::TlsMode::starttls;
    run.sent.outcome.tls_s = 0.01;
    run.sent.cert_days = curl::CertDays{30, 14};
    std::int64_t now_s = probe::unix_now_ms() / 1000;
    run.sent.outcome.certificate = curl::CertExpiry{now_s + 20 * 86400 + 43200, "CN=mx"};
    auto r = judge(config(), run);
    BOOST_TEST(overall_status(r) == Status::warning);
    BOOST_TEST(r.summary.starts_with("probe delivered in 1 s ("));
    BOOST_TEST(
        contains(line_summary(r), "); TLS certificate of mx.example.org:25 expires in 20 days ("),
        line_summary(r));
    BOOST_TEST(contains(perfdata_text(r), "smtp_cert_days=20;30:;14:"));
}

BOOST_AUTO_TEST_CASE(the_whole_run_time_is_in_the_perfdata) {
    auto c = config();
    auto deadline = Deadline::for_timeout(c.standard.timeout_s);
    auto r = roundtrip_result(c, delivered_run(1.0), deadline);
    auto time = std::find_if(r.perfdata.begin(), r.perfdata.end(),
                             [](const PerfDatum& d) { return d.label == "time"; });
    BOOST_REQUIRE(time != r.perfdata.end());
    BOOST_TEST((time->unit == Unit::seconds));
    BOOST_TEST(time->value >= 0.0);
    BOOST_TEST(time->value <= deadline.elapsed_s());
}
