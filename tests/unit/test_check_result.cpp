#define BOOST_TEST_MODULE check_result
#include <boost/test/unit_test.hpp>
#include <string>
#include <vector>

#include "result/check_result.hpp"
#include "result/status.hpp"
#include "support.hpp"

using namespace mailprobe;

namespace {

const Status k_all[] = {Status::ok, Status::warning, Status::critical, Status::unknown};

// The documented order, best to worst.
int rank(Status s) {
    switch (s) {
        case Status::ok:
            return 0;
        case Status::warning:
            return 1;
        case Status::unknown:
            return 2;
        case Status::critical:
            return 3;
    }
    return -1;
}

CheckResult node(Status s, std::string summary = "") {
    CheckResult r;
    r.status = s;
    r.summary = std::move(summary);
    return r;
}

}  // namespace

BOOST_AUTO_TEST_CASE(severity_order) {
    BOOST_TEST(severity(Status::ok) < severity(Status::warning));
    BOOST_TEST(severity(Status::warning) < severity(Status::unknown));
    BOOST_TEST(severity(Status::unknown) < severity(Status::critical));
}

BOOST_AUTO_TEST_CASE(worst_of_all_sixteen_pairs) {
    using enum Status;
    struct Pair {
        Status a, b, worst;
    };
    const Pair table[] = {
        {ok, ok, ok},
        {ok, warning, warning},
        {ok, critical, critical},
        {ok, unknown, unknown},
        {warning, ok, warning},
        {warning, warning, warning},
        {warning, critical, critical},
        {warning, unknown, unknown},
        {critical, ok, critical},
        {critical, warning, critical},
        {critical, critical, critical},
        {critical, unknown, critical},
        {unknown, ok, unknown},
        {unknown, warning, unknown},
        {unknown, critical, critical},
        {unknown, unknown, unknown},
    };
    for (const Pair& p : table) {
        BOOST_TEST(worst(p.a, p.b) == p.worst, "worst(" << p.a << ", " << p.b << ")");
        BOOST_TEST(rank(worst(p.a, p.b)) == std::max(rank(p.a), rank(p.b)));
    }
}

BOOST_AUTO_TEST_CASE(exit_codes) {
    BOOST_TEST(exit_code(Status::ok) == 0);
    BOOST_TEST(exit_code(Status::warning) == 1);
    BOOST_TEST(exit_code(Status::critical) == 2);
    BOOST_TEST(exit_code(Status::unknown) == 3);
}

BOOST_AUTO_TEST_CASE(status_names) {
    BOOST_TEST(status_name(Status::ok) == "OK");
    BOOST_TEST(status_name(Status::warning) == "WARNING");
    BOOST_TEST(status_name(Status::critical) == "CRITICAL");
    BOOST_TEST(status_name(Status::unknown) == "UNKNOWN");
}

BOOST_AUTO_TEST_CASE(leaf_overall_is_own_status) {
    for (Status s : k_all) BOOST_TEST(overall_status(node(s)) == s);
}

BOOST_AUTO_TEST_CASE(default_result_is_ok) {
    CheckResult r;
    BOOST_TEST(overall_status(r) == Status::ok);
}

BOOST_AUTO_TEST_CASE(critical_grandchild_wins) {
    CheckResult root = node(Status::ok, "root");
    CheckResult& a = root.add_child(node(Status::warning, "a"));
    a.add_child(node(Status::ok, "a1"));
    a.add_child(node(Status::critical, "a2"));
    root.add_child(node(Status::unknown, "b"));
    BOOST_TEST(overall_status(root) == Status::critical);
    BOOST_TEST(overall_status(root.children[0]) == Status::critical);
    BOOST_TEST(overall_status(root.children[1]) == Status::unknown);
    // The node's own status is untouched.
    BOOST_TEST(root.status == Status::ok);
    BOOST_TEST(root.children[0].status == Status::warning);
}

BOOST_AUTO_TEST_CASE(unknown_beats_warning) {
    CheckResult root = node(Status::warning);
    root.add_child(node(Status::ok)).add_child(node(Status::unknown));
    root.add_child(node(Status::warning));
    BOOST_TEST(overall_status(root) == Status::unknown);
}

BOOST_AUTO_TEST_CASE(critical_beats_unknown) {
    CheckResult root = node(Status::unknown);
    root.add_child(node(Status::unknown));
    root.add_child(node(Status::ok)).add_child(node(Status::ok)).add_child(node(Status::critical));
    BOOST_TEST(overall_status(root) == Status::critical);
}

BOOST_AUTO_TEST_CASE(warning_in_deep_tree) {
    CheckResult root = node(Status::ok);
    CheckResult* cur = &root;
    for (int i = 0; i < 20; ++i) cur = &cur->add_child(node(Status::ok));
    BOOST_TEST(overall_status(root) == Status::ok);
    cur->status = Status::warning;
    BOOST_TEST(overall_status(root) == Status::warning);
}

BOOST_AUTO_TEST_CASE(all_ok_tree_is_ok) {
    CheckResult root = node(Status::ok);
    for (int i = 0; i < 3; ++i) {
        auto& c = root.add_child(node(Status::ok));
        c.add_child(node(Status::ok));
    }
    BOOST_TEST(overall_status(root) == Status::ok);
}

BOOST_AUTO_TEST_CASE(root_status_counts_too) {
    CheckResult root = node(Status::critical);
    root.add_child(node(Status::warning));
    BOOST_TEST(overall_status(root) == Status::critical);
}

// ---- line 1: line_summary ----

BOOST_AUTO_TEST_CASE(an_ok_tree_says_only_its_own_summary) {
    CheckResult root = node(Status::ok, "probe delivered");
    root.add_child(node(Status::ok, "send: accepted")).add_child(node(Status::ok, "cert fine"));
    root.add_child(node(Status::ok, "mailbox: logged in"));
    BOOST_TEST(line_summary(root) == "probe delivered");
}

BOOST_AUTO_TEST_CASE(alerting_children_follow_the_summary_in_tree_order) {
    CheckResult root = node(Status::ok, "probe delivered");
    root.add_child(node(Status::critical, "first"));
    root.add_child(node(Status::ok, "quiet"));
    root.add_child(node(Status::warning, "second"));
    root.add_child(node(Status::unknown, "third"));
    BOOST_TEST(line_summary(root) == "probe delivered; first; second; third");
}

BOOST_AUTO_TEST_CASE(an_ok_child_passes_its_alerting_descendants_through) {
    CheckResult root = node(Status::ok, "probe delivered");
    CheckResult& send = root.add_child(node(Status::ok, "send: accepted"));
    send.add_child(node(Status::warning, "certificate expires in 20 days"));
    CheckResult& mailbox = root.add_child(node(Status::ok, "mailbox: logged in"));
    mailbox.add_child(node(Status::ok, "quiet")).add_child(node(Status::critical, "deep"));
    // The OK stages are not named; what alerts below them is, in their place.
    BOOST_TEST(line_summary(root) == "probe delivered; certificate expires in 20 days; deep");
}

BOOST_AUTO_TEST_CASE(an_alerting_child_brings_its_own_alerts_with_it) {
    CheckResult root = node(Status::ok, "root");
    CheckResult& child = root.add_child(node(Status::warning, "child"));
    child.add_child(node(Status::ok, "fine"));
    child.add_child(node(Status::critical, "grandchild"));
    BOOST_TEST(line_summary(root) == "root; child; grandchild");
}

BOOST_AUTO_TEST_CASE(a_headline_child_is_named_even_when_ok) {
    CheckResult root = node(Status::ok, "root");
    root.add_child(node(Status::ok, "not named"));
    root.add_child(node(Status::ok, "named")).headline = true;
    BOOST_TEST(line_summary(root) == "root; named");
}

BOOST_AUTO_TEST_CASE(leading_children_go_in_front_in_tree_order) {
    CheckResult root = node(Status::ok, "probe delivered");
    root.add_child(node(Status::warning, "certificate expires")).leads = false;
    root.add_child(node(Status::warning, "delayed at relay")).leads = true;
    root.add_child(node(Status::ok, "auth fine")).leads = true;  // OK: not named
    root.add_child(node(Status::warning, "SPF fail")).leads = true;
    BOOST_TEST(line_summary(root) ==
               "delayed at relay; SPF fail; probe delivered; certificate expires");
}

BOOST_AUTO_TEST_CASE(empty_texts_leave_no_empty_parts) {
    CheckResult root = node(Status::ok, "root");
    root.add_child(node(Status::warning, ""));
    BOOST_TEST(line_summary(root) == "root");
}

BOOST_AUTO_TEST_CASE(without_its_own_summary_a_node_speaks_through_its_worst_children) {
    CheckResult root;
    root.add_child(node(Status::critical, "SMTP refused"));
    root.add_child(node(Status::warning, "slow"));
    root.add_child(node(Status::critical, "mailbox down"));
    BOOST_TEST(line_summary(root) == "SMTP refused; mailbox down");

    CheckResult all_ok;
    all_ok.add_child(node(Status::ok, "a"));
    all_ok.add_child(node(Status::ok, "b"));
    BOOST_TEST(line_summary(all_ok) == "a; b");
    BOOST_TEST(line_summary(CheckResult{}).empty());
}

BOOST_AUTO_TEST_CASE(a_detail_is_a_text_with_a_verbosity_level) {
    CheckResult r;
    r.details.emplace_back("plain");
    r.add_detail("reply", Verbosity::verbose);
    BOOST_TEST((r.details.at(0).level == Verbosity::always));
    BOOST_TEST((r.details.at(1).level == Verbosity::verbose));
    BOOST_TEST((r.details.at(1) == "reply"));
}
