// The one duration formatter for human text (output/duration.hpp).
#define BOOST_TEST_MODULE duration
#include <boost/test/unit_test.hpp>

#include <limits>

#include "core/duration.hpp"

using mailprobe::human_duration;

namespace {

struct Case {
    double seconds;
    const char* text;
};

// Every boundary where the unit or the precision changes, and the rounding across it.
const Case cases[] = {
    {0, "0 s"},         {0.00004, "0 s"},    {0.0004, "0.4 ms"},
    {0.0009, "0.9 ms"}, {0.00996, "10 ms"},  {0.016, "16 ms"},
    {0.0164, "16 ms"},  {0.109, "109 ms"},   {0.9994, "999 ms"},
    {0.9996, "1.0 s"},  {1.04, "1.0 s"},     {1, "1 s"},
    {3, "3 s"},         {1.4, "1.4 s"},      {6.94, "6.9 s"},
    {9.96, "10 s"},     {42.4, "42 s"},      {59.6, "1 min"},
    {60, "1 min"},      {125, "2 min 5 s"},  {3599.4, "59 min 59 s"},
    {3600, "1 h"},      {3900, "1 h 5 min"}, {86400 + 3 * 3600, "1 d 3 h"},
    {-0.016, "-16 ms"}, {-0.00001, "0 s"},   {-125, "-2 min 5 s"},
};

}  // namespace

BOOST_AUTO_TEST_CASE(table_of_durations) {
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT("seconds = " << c.seconds) {
            BOOST_TEST(human_duration(c.seconds) == c.text);
        }
    }
}

BOOST_AUTO_TEST_CASE(non_finite_and_absurd_values_stay_readable) {
    BOOST_TEST(human_duration(std::numeric_limits<double>::quiet_NaN()) == "unknown time");
    BOOST_TEST(human_duration(std::numeric_limits<double>::infinity()) == "unknown time");
    BOOST_TEST(human_duration(1e300) == "over 30000 years");
}
