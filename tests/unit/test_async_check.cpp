// --async (checks/async_check.hpp), the parts reachable without a mailbox: when a collected
// probe reached its final MTA (arrival_ms), the asynchronous options, and the judging of
// outstanding probes at a given time (judge_async): delivered in time, late (WARNING), very
// late (CRITICAL), lost, bounced, delayed, none outstanding, a receiver watching only.
#define BOOST_TEST_MODULE async_check
#include <optional>
#include <string>
#include <vector>

#include "checks/async_check.hpp"
#include "checks/roundtrip.hpp"
#include "output/render.hpp"
#include "probe_test_util.hpp"
#include "support.hpp"

using namespace mailprobe;
using namespace mailprobe::checks;
using mailprobe::test::contains;

namespace {

std::string show(const std::optional<std::int64_t>& v) {
    return v ? std::to_string(*v) : "nullopt";
}

}  // namespace

BOOST_AUTO_TEST_CASE(arrival_is_the_topmost_dated_received_field) {
    struct Case {
        std::string what;
        std::string header;
        std::optional<std::int64_t> expected;
    };
    const std::string relay =
        "Received: from client.example.org (client.example.org [192.0.2.1])"
        "\r\n\tby relay.example.org with ESMTPS id 1A; "
        "Fri, 27 Nov 2026 17:32:05 +0000\r\n";
    const std::vector<Case> cases = {
        {"one hop", relay + "Subject: x\r\n", 1795800725000},
        {"the last hop wins",
         "Received: from relay.example.org by mx.example.org with ESMTP id 2B; "
         "Fri, 27 Nov 2026 17:32:07 +0000\r\n" +
             relay,
         1795800727000},
        {"zones count",
         "Received: from relay.example.org by mx.example.org; Fri, 27 Nov 2026 18:32:05 +0100\r\n",
         1795800725000},
        {"an undated top field is skipped",
         "Received: from relay.example.org by mx.example.org with LMTP\r\n" + relay, 1795800725000},
        {"no Received field", "Subject: x\r\nFrom: probe@example.org\r\n", std::nullopt},
        {"only undated fields", "Received: by mx.example.org\r\n", std::nullopt},
        {"empty header", "", std::nullopt},
    };
    for (const auto& c : cases) {
        BOOST_TEST(show(arrival_ms(c.header)) == show(c.expected), c.what);
    }
}

namespace {

AsyncOptions async_of(std::vector<std::string> extra) {
    return probe_test::roundtrip_config(std::move(extra)).async;
}

}  // namespace

BOOST_AUTO_TEST_CASE(async_options_default_to_off_and_an_hour_to_give_up) {
    auto a = async_of({});
    BOOST_TEST(!a.enabled);
    BOOST_TEST(a.give_up_s == 3600);
    BOOST_TEST(!a.state_dir.has_value());
    BOOST_TEST(!a.wait_given);
}

BOOST_AUTO_TEST_CASE(async_options_are_read_as_given) {
    mailprobe::test::TempDir dir;
    auto a = async_of({"--async", "--give-up", "600", "--state-dir", dir.path, "--wait", "5"});
    BOOST_TEST(a.enabled);
    BOOST_TEST(a.give_up_s == 600);
    BOOST_TEST(a.state_dir.value_or("") == dir.path);
    BOOST_TEST(a.wait_given);  // hybrid: also wait for the fresh probe
}

namespace {

constexpr std::int64_t k_now = 1795800725000;  // 2026-11-27 17:32:05 UTC
constexpr std::int64_t k_s = 1000;

Thresholds limits(const std::string& w, const std::string& c) {
    Thresholds t;
    t.warning = Range::parse(w);
    t.critical = Range::parse(c);
    return t;
}

state::CheckState with_outstanding(std::vector<std::int64_t> ages_s) {
    state::CheckState st;
    int n = 0;
    for (auto age : ages_s)
        st.outstanding.push_back({"p" + std::to_string(n++), k_now - age * k_s, "SMTP mx"});
    return st;
}

std::string line1(const CheckResult& r) {
    return std::string(status_name(overall_status(r))) + " - " + line_summary(r);
}

CheckResult judge(const state::CheckState& st, const AsyncFindings& f = {},
                  AsyncMode mode = AsyncMode::send_and_watch) {
    return judge_async(mode, limits("60", "300"), "rt", st, f, k_now);
}

verdict::Dsn delay_dsn() {
    verdict::Dsn d;
    d.action = verdict::DsnAction::delayed;
    d.reporting_mta = "relay.example.org";
    d.status = "4.4.1";
    d.diagnostic = "timed out";
    return d;
}

}  // namespace

BOOST_AUTO_TEST_CASE(nothing_delivered_yet_and_nothing_late_is_ok) {
    BOOST_TEST(line1(judge(with_outstanding({10}))) ==
               "OK - no delivery measured yet; 1 outstanding");
    BOOST_TEST(line1(judge({})) == "OK - no delivery measured yet; 0 outstanding");
}

BOOST_AUTO_TEST_CASE(the_last_delivery_time_is_judged_when_nothing_is_late) {
    auto st = with_outstanding({5});
    st.last_delivery = state::LastDelivery{"d", k_now - 600 * k_s, k_now - 590 * k_s, 10 * k_s};
    BOOST_TEST(line1(judge(st)) ==
               "OK - last probe delivered in 10 s (sent 17:22:05 UTC); 1 outstanding");
    st.last_delivery->delay_ms = 90 * k_s;
    BOOST_TEST(line1(judge(st)).starts_with("WARNING - last probe delivered in 1 min 30 s"),
               line1(judge(st)));
}

BOOST_AUTO_TEST_CASE(the_oldest_outstanding_probe_is_late_by_w_and_c) {
    struct Case {
        std::int64_t age_s;
        std::string line;
    };
    const std::vector<Case> cases = {
        {30, "OK - no delivery measured yet; 2 outstanding"},
        {120, "WARNING - probe sent 17:30:05 UTC not delivered after 2 min; 2 outstanding"},
        {400, "CRITICAL - probe sent 17:25:25 UTC not delivered after 6 min 40 s; 2 outstanding"},
    };
    for (const auto& c : cases) {
        BOOST_TEST(line1(judge(with_outstanding({c.age_s, 5}))) == c.line, c.age_s);
    }
}

BOOST_AUTO_TEST_CASE(the_probe_sent_in_this_run_is_never_late) {
    AsyncFindings f;
    f.fresh_id = "p0";
    BOOST_TEST(line1(judge(with_outstanding({400}), f)) ==
               "OK - no delivery measured yet; 1 outstanding");
}

BOOST_AUTO_TEST_CASE(lost_bounced_and_delayed_probes_lead_line_1) {
    AsyncFindings f;
    f.lost = 1;
    BOOST_TEST(line1(judge({}, f)) ==
               "CRITICAL - 1 probe(s) lost; no delivery measured yet; "
               "0 outstanding");
    f = {};
    f.bounced = {"probe bounced by relay (probe sent 17:00:00 UTC)", "another"};
    BOOST_TEST(line1(judge({}, f)) ==
               "CRITICAL - probe bounced by relay (probe sent 17:00:00 UTC) (and 1 more bounced); "
               "no delivery measured yet; 0 outstanding");
    f = {};
    f.delayed = {delay_dsn()};
    BOOST_TEST(line1(judge({}, f)).starts_with("WARNING - delayed at relay.example.org: 4.4.1 "),
               line1(judge({}, f)));
    f.lost = 2;
    f.bounced = {"bounced"};
    BOOST_TEST(line1(judge({}, f)).starts_with("CRITICAL - bounced; delayed at relay.example.org"),
               line1(judge({}, f)));
    BOOST_TEST(contains(line1(judge({}, f)), "; 2 probe(s) lost; no delivery measured yet"));
}

BOOST_AUTO_TEST_CASE(forged_dsns_are_said_in_the_long_output) {
    AsyncFindings f;
    f.dsn_ignored = 2;
    auto r = judge({}, f);
    BOOST_TEST(r.details.size() == 1U);
    BOOST_TEST(r.details.at(0).text == "ignored 2 DSN(s) quoting a probe tag that does not verify");
}

BOOST_AUTO_TEST_CASE(watching_only_judges_the_newest_probes_age) {
    state::CheckState st;
    BOOST_TEST(line1(judge(st, {}, AsyncMode::watch_only)) ==
               "CRITICAL - no probe of check 'rt' seen yet");
    st.last_delivery = state::LastDelivery{"d", k_now - 30 * k_s, k_now - 29 * k_s, 1 * k_s};
    BOOST_TEST(line1(judge(st, {}, AsyncMode::watch_only)) ==
               "OK - newest probe 30 s old (sent 17:31:35 UTC); 0 outstanding");
    st.last_delivery->sent_ms = k_now - 400 * k_s;
    BOOST_TEST(line1(judge(st, {}, AsyncMode::watch_only)).starts_with("CRITICAL - newest probe"));
}
