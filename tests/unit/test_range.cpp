#define BOOST_TEST_MODULE range
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "result/range.hpp"
#include "support.hpp"

using namespace mailprobe;
using namespace mailprobe::test;

namespace {

struct Case {
    double value;
    bool alerts;
};

void check_range(const std::string& text, const std::vector<Case>& cases) {
    Range r = Range::parse(text);
    BOOST_TEST(r.text() == text);
    for (const auto& c : cases) {
        BOOST_TEST(r.alerts(c.value) == c.alerts,
                   "range '" << text << "' value " << c.value << ": expected alerts=" << c.alerts);
    }
}

// Expects Range::parse to throw UsageError whose message quotes the offending text.
void check_malformed(const std::string& text) {
    std::string message = message_of<UsageError>([&] { (void)Range::parse(text); });
    BOOST_TEST(contains(message, "'" + text + "'"),
               "range '" << text << "': message '" << message << "' does not name it");
}

constexpr double k_eps = 1e-9;

}  // namespace

BOOST_AUTO_TEST_SUITE(guideline_examples)

BOOST_AUTO_TEST_CASE(plain_end_means_zero_to_end) {
    // "10": alert if < 0 or > 10
    check_range("10", {{-k_eps, true},
                       {-1, true},
                       {0, false},
                       {5, false},
                       {10, false},
                       {10 + k_eps, true},
                       {11, true}});
}

BOOST_AUTO_TEST_CASE(start_colon_means_start_to_infinity) {
    // "10:": alert if < 10
    check_range("10:", {{10 - k_eps, true},
                        {-1, true},
                        {10, false},
                        {10 + k_eps, false},
                        {1e12, false},
                        {std::numeric_limits<double>::max(), false}});
}

BOOST_AUTO_TEST_CASE(tilde_means_negative_infinity) {
    // "~:10": alert if > 10
    check_range("~:10", {{-1e12, false},
                         {-std::numeric_limits<double>::max(), false},
                         {0, false},
                         {10, false},
                         {10 + k_eps, true},
                         {1e12, true}});
}

BOOST_AUTO_TEST_CASE(start_end_alerts_outside) {
    // "10:20": alert if < 10 or > 20
    check_range("10:20", {{10 - k_eps, true},
                          {0, true},
                          {10, false},
                          {15, false},
                          {20, false},
                          {20 + k_eps, true},
                          {100, true}});
}

BOOST_AUTO_TEST_CASE(at_sign_alerts_inside_inclusive) {
    // "@10:20": alert if >= 10 and <= 20
    check_range("@10:20", {{10 - k_eps, false},
                           {0, false},
                           {10, true},
                           {15, true},
                           {20, true},
                           {20 + k_eps, false},
                           {100, false}});
}

BOOST_AUTO_TEST_CASE(at_sign_with_plain_end) {
    // "@10": alert if >= 0 and <= 10
    check_range("@10", {{-k_eps, false}, {0, true}, {10, true}, {10 + k_eps, false}});
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(decimals_and_negatives)

BOOST_AUTO_TEST_CASE(decimal_endpoints) {
    check_range("0.5:1.25",
                {{0.49, true}, {0.5, false}, {1.0, false}, {1.25, false}, {1.2500001, true}});
}

BOOST_AUTO_TEST_CASE(negative_endpoints) {
    check_range(
        "-5:-1",
        {{-5.0001, true}, {-5, false}, {-3, false}, {-1, false}, {-0.9999, true}, {0, true}});
}

BOOST_AUTO_TEST_CASE(tilde_to_negative) {
    check_range("~:-3", {{-1e9, false}, {-3, false}, {-2.9999, true}, {0, true}});
}

BOOST_AUTO_TEST_CASE(inside_around_zero) {
    check_range("@-1:1",
                {{-1.0001, false}, {-1, true}, {0, true}, {1, true}, {1.0001, false}, {-5, false}});
}

BOOST_AUTO_TEST_CASE(inside_from_negative_infinity) {
    check_range("@~:5", {{-1e12, true}, {0, true}, {5, true}, {5.0001, false}, {1e12, false}});
}

BOOST_AUTO_TEST_CASE(negative_plain_end_has_start_above_end) {
    // "-1" means 0..-1: start greater than end.
    check_malformed("-1");
}

BOOST_AUTO_TEST_CASE(equal_start_and_end) {
    check_range("3:3", {{3, false}, {2.9999, true}, {3.0001, true}});
    check_range("@3:3", {{3, true}, {2.9999, false}, {3.0001, false}});
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(malformed)

BOOST_AUTO_TEST_CASE(empty) {
    check_malformed("");
}

BOOST_AUTO_TEST_CASE(not_a_number) {
    for (const char* t : {"abc", "1e", "inf", "nan", "-inf", "10:x", "x:10", "~", "1,5", "0x10",
                          " 10", "10 ", "1.2.3", "--5"}) {
        check_malformed(t);
    }
}

BOOST_AUTO_TEST_CASE(too_many_colons) {
    check_malformed("1:2:3");
    check_malformed("@1:2:3");
    check_malformed("::");
}

BOOST_AUTO_TEST_CASE(start_greater_than_end) {
    check_malformed("5:3");
    check_malformed("@5:3");
    check_malformed("-1:-5");
}

BOOST_AUTO_TEST_CASE(lone_at_sign) {
    check_malformed("@");
    check_malformed("@@10");
}

BOOST_AUTO_TEST_CASE(lone_colon) {
    check_malformed(":");
}

BOOST_AUTO_TEST_CASE(tilde_colon_without_end) {
    check_malformed("~:");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(thresholds)

BOOST_AUTO_TEST_CASE(no_thresholds_is_ok) {
    Thresholds t;
    for (double v : {-1e9, -1.0, 0.0, 1.0, 1e9}) BOOST_TEST(t.evaluate(v) == Status::ok);
}

BOOST_AUTO_TEST_CASE(critical_beats_warning) {
    Thresholds t{Range::parse("10"), Range::parse("20")};
    BOOST_TEST(t.evaluate(5) == Status::ok);
    BOOST_TEST(t.evaluate(10) == Status::ok);
    BOOST_TEST(t.evaluate(10.5) == Status::warning);
    BOOST_TEST(t.evaluate(20) == Status::warning);
    BOOST_TEST(t.evaluate(20.5) == Status::critical);
    BOOST_TEST(t.evaluate(-1) == Status::critical);  // both alert below 0
}

BOOST_AUTO_TEST_CASE(critical_wins_even_when_warning_is_wider) {
    // Warning alerts on everything above 1, critical only above 5.
    Thresholds t{Range::parse("1"), Range::parse("5")};
    BOOST_TEST(t.evaluate(6) == Status::critical);
    BOOST_TEST(t.evaluate(3) == Status::warning);
}

BOOST_AUTO_TEST_CASE(only_warning) {
    Thresholds t{Range::parse("~:2"), std::nullopt};
    BOOST_TEST(t.evaluate(2) == Status::ok);
    BOOST_TEST(t.evaluate(3) == Status::warning);
}

BOOST_AUTO_TEST_CASE(only_critical) {
    Thresholds t{std::nullopt, Range::parse("@0:1")};
    BOOST_TEST(t.evaluate(0.5) == Status::critical);
    BOOST_TEST(t.evaluate(2) == Status::ok);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(numbers)

BOOST_AUTO_TEST_CASE(valid_numbers) {
    BOOST_TEST(parse_number("0").value() == 0.0);
    BOOST_TEST(parse_number("1.5").value() == 1.5);
    BOOST_TEST(parse_number("-2.25").value() == -2.25);
    BOOST_TEST(parse_number("+3").value() == 3.0);
    BOOST_TEST(parse_number("10").value() == 10.0);
    BOOST_TEST(parse_number(".5").value() == 0.5);
}

BOOST_AUTO_TEST_CASE(invalid_numbers) {
    for (const char* t : {"", "+", "-", ".", "abc", "1e", "inf", "-inf", "nan", "infinity", "1e400",
                          "1,5", " 1", "1 ", "0x10", "1.5s", "++1", "+-5"}) {
        BOOST_TEST(!parse_number(t).has_value(), "'" << t << "' parsed as a number");
    }
}

BOOST_AUTO_TEST_CASE(independent_of_locale,
                     *boost::unit_test::precondition(foreign_locale_or_fail)) {
    ForeignLocale locale;
    auto v = parse_number("1.5");
    BOOST_TEST_REQUIRE(v.has_value());
    BOOST_TEST(*v == 1.5);
    BOOST_TEST(!parse_number("1,5").has_value());
    check_range("0.5:1.25", {{0.49, true}, {0.5, false}, {1.25, false}, {1.26, true}});
    check_malformed("0,5:1");
}

BOOST_AUTO_TEST_SUITE_END()
