// ReadyGate (common/checks/ready_gate.hpp): the sender holds the probe's body until the
// mailbox side says it is open; a failed mailbox or the deadline keeps the probe unsent.
#define BOOST_TEST_MODULE ready_gate
#include "checks/ready_gate.hpp"

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <thread>

#include "support.hpp"

using namespace mailprobe;
using checks::ReadyGate;
using std::chrono::milliseconds;

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

BOOST_AUTO_TEST_CASE(opened_before_the_wait_lets_the_sender_through_at_once) {
    ReadyGate gate;
    gate.open();
    Deadline already_over(milliseconds(0));
    BOOST_TEST(gate.wait(already_over));
}

BOOST_AUTO_TEST_CASE(failed_mailbox_holds_the_probe_back) {
    ReadyGate gate;
    gate.fail();
    BOOST_TEST(!gate.wait(Deadline(milliseconds(5000))));
}

BOOST_AUTO_TEST_CASE(a_failure_after_opening_closes_it_again) {
    ReadyGate gate;
    gate.open();
    gate.fail();
    BOOST_TEST(!gate.wait(Deadline(milliseconds(5000))));
}

BOOST_AUTO_TEST_CASE(no_word_from_the_mailbox_ends_at_the_deadline) {
    ReadyGate gate;
    auto start = std::chrono::steady_clock::now();
    BOOST_TEST(!gate.wait(Deadline(milliseconds(200))));
    double waited = seconds_since(start);
    BOOST_TEST(waited >= 0.2);
    BOOST_TEST(waited <= 0.2 + test::deadline_slack());
}

BOOST_AUTO_TEST_CASE(opening_from_another_thread_wakes_the_waiting_sender) {
    ReadyGate gate;
    auto start = std::chrono::steady_clock::now();
    std::jthread mailbox([&gate] {
        std::this_thread::sleep_for(milliseconds(100));
        gate.open();
    });
    BOOST_TEST(gate.wait(Deadline(milliseconds(10000))));
    double waited = seconds_since(start);
    BOOST_TEST(waited >= 0.1);
    BOOST_TEST(waited <= 0.1 + test::deadline_slack());  // woken, not timed out
}

BOOST_AUTO_TEST_CASE(failing_from_another_thread_wakes_the_waiting_sender) {
    ReadyGate gate;
    auto start = std::chrono::steady_clock::now();
    std::jthread mailbox([&gate] {
        std::this_thread::sleep_for(milliseconds(100));
        gate.fail();
    });
    BOOST_TEST(!gate.wait(Deadline(milliseconds(10000))));
    BOOST_TEST(seconds_since(start) <= 0.1 + test::deadline_slack());
}
