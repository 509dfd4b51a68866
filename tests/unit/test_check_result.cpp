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
