#define BOOST_TEST_MODULE deadline
#include <boost/test/unit_test.hpp>
#include <chrono>

#include "core/deadline.hpp"

using mailprobe::Deadline;
using std::chrono::milliseconds;

// -t is a promise to the monitoring system: the network stages stop early enough that the
// answer is printed before -t.
BOOST_AUTO_TEST_CASE(reserve_is_a_quarter_of_the_timeout_at_most_half_a_second) {
    struct Case {
        milliseconds timeout, reserve;
    };
    for (const Case& c :
         {Case{milliseconds(0), milliseconds(0)}, Case{milliseconds(400), milliseconds(100)},
          Case{milliseconds(2000), milliseconds(500)}, Case{milliseconds(3000), milliseconds(500)},
          Case{milliseconds(30000), milliseconds(500)}}) {
        BOOST_TEST(Deadline::reserve_for(c.timeout).count() == c.reserve.count(),
                   "timeout " << c.timeout.count() << " ms");
    }
}

BOOST_AUTO_TEST_CASE(network_stages_end_before_the_timeout) {
    const Deadline d = Deadline::for_timeout(3);
    BOOST_TEST(d.budget_s() == 3.0);  // what messages quote ("timeout after 3 s")
    BOOST_TEST(d.remaining_ms() <= 2500);
    BOOST_TEST(d.remaining_ms() > 2000);  // generous: a loaded machine may pause us
    BOOST_TEST(Deadline::for_timeout(0).expired());
}

BOOST_AUTO_TEST_CASE(capped_never_extends) {
    const Deadline d = Deadline::for_timeout(3);
    BOOST_TEST((d.capped(milliseconds(60000)).end() == d.end()));
    BOOST_TEST(d.capped(milliseconds(100)).remaining_ms() <= 100);
}
