#define BOOST_TEST_MODULE perfdata
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <limits>
#include <regex>
#include <string>
#include <vector>

#include "result/perfdata.hpp"
#include "support.hpp"

using namespace mailprobe;
using namespace mailprobe::test;

namespace {

const double k_nan = std::numeric_limits<double>::quiet_NaN();
const double k_inf = std::numeric_limits<double>::infinity();

// The plugin guidelines' grammar: 'label'=value[UOM];[warn];[crit];[min];[max], with
// trailing empty fields left off, a value of "U" carrying no unit.
const std::regex& perfdata_grammar() {
    static const std::string number = R"(-?[0-9]+(?:\.[0-9]+)?)";
    static const std::string range =
        R"(@?(?:~|-?[0-9]+(?:\.[0-9]+)?)?:?(?:-?[0-9]+(?:\.[0-9]+)?)?)";
    static const std::string label = R"((?:'[^'=]+'|[^'= ;|]+))";
    static const std::string value = "(?:U|" + number + "(?:s|B|%|c)?)";
    static const std::regex re("^" + label + "=" + value + "(?:;(?:" + range + ")(?:;(?:" + range +
                               ")(?:;(?:" + number + ")?(?:;(?:" + number + ")?)?)?)?)?$");
    return re;
}

void check_grammar(const std::string& out) {
    BOOST_TEST(std::regex_match(out, perfdata_grammar()), "'" << out << "' breaks the grammar");
    BOOST_TEST(out.back() != ';', "'" << out << "' has a trailing empty field");
    BOOST_TEST(out.find('|') == std::string::npos);
    BOOST_TEST(out.find('\n') == std::string::npos);
}

PerfDatum datum(std::string label, double value, Unit unit = Unit::none) {
    PerfDatum d;
    d.label = std::move(label);
    d.value = value;
    d.unit = unit;
    return d;
}

std::vector<double> sample_values() {
    return {0.0,   -0.0,      1.0,      -1.0,         0.5,     1e-7,       -1e-7,
            1e-6,  0.0000015, 0.1,      0.25,         2.0 / 3, 123456.789, -123456.789,
            1e6,   1e9,       1.5e12,   4294967296.0, 1e15,    1e18,       1e20,
            123.0, 99.999999, 0.999999, 1234567.125,  1e-300,  5e-324,     1e50};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(numbers)

BOOST_AUTO_TEST_CASE(simple_values) {
    BOOST_TEST(format_number(0) == "0");
    BOOST_TEST(format_number(-0.0) == "0");
    BOOST_TEST(format_number(1) == "1");
    BOOST_TEST(format_number(-1) == "-1");
    BOOST_TEST(format_number(0.5) == "0.5");
    BOOST_TEST(format_number(-0.25) == "-0.25");
    BOOST_TEST(format_number(10) == "10");
    BOOST_TEST(format_number(100) == "100");
    BOOST_TEST(format_number(123456.789) == "123456.789");
}

BOOST_AUTO_TEST_CASE(tiny_values_round_to_zero) {
    BOOST_TEST(format_number(1e-7) == "0");
    BOOST_TEST(format_number(-1e-7) == "0");
    BOOST_TEST(format_number(5e-324) == "0");
    BOOST_TEST(format_number(0.000001) == "0.000001");
    BOOST_TEST(format_number(0.0000015) == "0.000002");
}

BOOST_AUTO_TEST_CASE(large_values_without_exponent) {
    BOOST_TEST(format_number(1e6) == "1000000");
    BOOST_TEST(format_number(4294967296.0) == "4294967296");
    BOOST_TEST(format_number(1e15) == "1000000000000000");
    BOOST_TEST(format_number(1e20) == "100000000000000000000");
    BOOST_TEST(format_number(1.5e12) == "1500000000000");
}

BOOST_AUTO_TEST_CASE(huge_finite_values_are_numbers) {
    // Finite values must print as numbers; only NaN/inf may be "U".
    for (double v : {1e60, 1e100, 1e300, std::numeric_limits<double>::max(), -1e300}) {
        std::string s = format_number(v);
        BOOST_TEST(std::regex_match(s, std::regex(R"(-?[0-9]+)")),
                   "finite " << v << " -> '" << s << "'");
    }
}

BOOST_AUTO_TEST_CASE(non_finite_is_undetermined) {
    BOOST_TEST(format_number(k_nan) == "U");
    BOOST_TEST(format_number(-k_nan) == "U");
    BOOST_TEST(format_number(k_inf) == "U");
    BOOST_TEST(format_number(-k_inf) == "U");
}

BOOST_AUTO_TEST_CASE(never_an_exponent_or_comma) {
    static const std::regex plain(R"(-?[0-9]+(\.[0-9]*[1-9])?)");
    for (double v : sample_values()) {
        std::string s = format_number(v);
        BOOST_TEST(std::regex_match(s, plain), v << " -> '" << s << "'");
        BOOST_TEST(s != "-0");
    }
}

BOOST_AUTO_TEST_CASE(round_trips_within_a_microsecond) {
    for (double v : {0.5, 1.25, 123456.789, 0.123456, 42.0, -7.75, 3.141592}) {
        BOOST_TEST(std::stod(format_number(v)) == v, boost::test_tools::tolerance(1e-6));
    }
}

BOOST_AUTO_TEST_CASE(no_comma_under_german_locale,
                     *boost::unit_test::precondition(foreign_locale_or_fail)) {
    ForeignLocale locale;
    BOOST_TEST(format_number(1.5) == "1.5");
    BOOST_TEST(format_number(1234567.25) == "1234567.25");
    for (double v : sample_values()) {
        std::string s = format_number(v);
        BOOST_TEST(s.find(',') == std::string::npos, v << " -> '" << s << "'");
    }
    PerfDatum d = datum("time", 0.75, Unit::seconds);
    d.warning = Range::parse("0.5");
    d.min = 0.25;
    BOOST_TEST(format_perfdatum(d) == "time=0.75s;0.5;;0.25");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(labels)

BOOST_AUTO_TEST_CASE(plain_labels_unquoted) {
    BOOST_TEST(format_perfdatum(datum("time", 1)) == "time=1");
    BOOST_TEST(format_perfdatum(datum("smtp_time-2.x", 1)) == "smtp_time-2.x=1");
    BOOST_TEST(format_perfdatum(datum("ABC123", 1)) == "ABC123=1");
}

BOOST_AUTO_TEST_CASE(spaces_are_quoted) {
    BOOST_TEST(format_perfdatum(datum("smtp time", 1)) == "'smtp time'=1");
    BOOST_TEST(format_perfdatum(datum("mx.example.org:25", 2)) == "'mx.example.org:25'=2");
}

BOOST_AUTO_TEST_CASE(equals_and_quote_replaced) {
    BOOST_TEST(format_perfdatum(datum("a=b", 1)) == "a_b=1");
    BOOST_TEST(format_perfdatum(datum("it's", 1)) == "it_s=1");
    BOOST_TEST(format_perfdatum(datum("it's late", 1)) == "'it_s late'=1");
    BOOST_TEST(format_perfdatum(datum("'quoted'", 1)) == "_quoted_=1");
}

BOOST_AUTO_TEST_CASE(pipe_and_control_characters_replaced) {
    std::string out = format_perfdatum(datum("a|b\nc\td\x7f", 1));
    BOOST_TEST(out.find('|') == std::string::npos);
    BOOST_TEST(out.find('\n') == std::string::npos);
    BOOST_TEST(out.find('\t') == std::string::npos);
    BOOST_TEST(out.find('\x7f') == std::string::npos);
    check_grammar(out);
}

BOOST_AUTO_TEST_CASE(empty_label_gets_a_placeholder) {
    std::string out = format_perfdatum(datum("", 1));
    BOOST_TEST(out == "_=1");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(fields)

BOOST_AUTO_TEST_CASE(units) {
    BOOST_TEST(format_perfdatum(datum("x", 1.5, Unit::seconds)) == "x=1.5s");
    BOOST_TEST(format_perfdatum(datum("x", 2048, Unit::bytes)) == "x=2048B");
    BOOST_TEST(format_perfdatum(datum("x", 50, Unit::percent)) == "x=50%");
    BOOST_TEST(format_perfdatum(datum("x", 7, Unit::counter)) == "x=7c");
    BOOST_TEST(format_perfdatum(datum("x", 7, Unit::none)) == "x=7");
    BOOST_TEST(unit_suffix(Unit::seconds) == "s");
    BOOST_TEST(unit_suffix(Unit::bytes) == "B");
    BOOST_TEST(unit_suffix(Unit::percent) == "%");
    BOOST_TEST(unit_suffix(Unit::counter) == "c");
    BOOST_TEST(unit_suffix(Unit::none) == "");
}

BOOST_AUTO_TEST_CASE(undetermined_value_has_no_unit) {
    BOOST_TEST(format_perfdatum(datum("x", k_nan, Unit::seconds)) == "x=U");
    BOOST_TEST(format_perfdatum(datum("x", k_inf, Unit::bytes)) == "x=U");
}

BOOST_AUTO_TEST_CASE(trailing_empty_fields_trimmed_inner_kept) {
    PerfDatum d = datum("x", 1, Unit::seconds);
    BOOST_TEST(format_perfdatum(d) == "x=1s");
    d.critical = Range::parse("5");
    BOOST_TEST(format_perfdatum(d) == "x=1s;;5");
    d.critical.reset();
    d.min = 0;
    BOOST_TEST(format_perfdatum(d) == "x=1s;;;0");
    d.min.reset();
    d.max = 10;
    BOOST_TEST(format_perfdatum(d) == "x=1s;;;;10");
    d.warning = Range::parse("3");
    BOOST_TEST(format_perfdatum(d) == "x=1s;3;;;10");
}

BOOST_AUTO_TEST_CASE(quoted_label_with_inner_empty_field) {
    PerfDatum d = datum("x y", 1, Unit::seconds);
    d.critical = Range::parse("5");
    BOOST_TEST(format_perfdatum(d) == "'x y'=1s;;5");
}

BOOST_AUTO_TEST_CASE(ranges_printed_as_given) {
    PerfDatum d = datum("delay", 12.5, Unit::seconds);
    d.warning = Range::parse("~:10");
    d.critical = Range::parse("@20:30.5");
    d.min = 0;
    d.max = 60;
    BOOST_TEST(format_perfdatum(d) == "delay=12.5s;~:10;@20:30.5;0;60");
}

BOOST_AUTO_TEST_CASE(non_finite_min_max_left_empty) {
    PerfDatum d = datum("x", 1);
    d.min = k_nan;
    d.max = 5;
    BOOST_TEST(format_perfdatum(d) == "x=1;;;;5");
    d.max = k_inf;
    BOOST_TEST(format_perfdatum(d) == "x=1");
}

BOOST_AUTO_TEST_CASE(seconds_datum_helper) {
    BOOST_TEST(format_perfdatum(seconds_datum("total", 1.25)) == "total=1.25s;;;0");
    Thresholds t{Range::parse("10"), Range::parse("20")};
    BOOST_TEST(format_perfdatum(seconds_datum("total", 3, &t)) == "total=3s;10;20;0");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_CASE(every_output_matches_the_grammar) {
    std::vector<std::string> labels = {"time", "smtp time", "a=b",     "it's", "",
                                       "x|y",  "tab\there", "ünïcode", "a;b",  "mx:25"};
    std::vector<std::optional<Range>> ranges = {std::nullopt, Range::parse("10"),
                                                Range::parse("10:"), Range::parse("~:10"),
                                                Range::parse("@-1.5:2.25")};
    std::vector<std::optional<double>> bounds = {std::nullopt, 0.0, -3.5, 1e9, k_nan};
    std::vector<double> values = sample_values();
    values.push_back(k_nan);
    values.push_back(-k_inf);
    std::size_t checked = 0;
    for (const auto& label : labels) {
        for (Unit unit : {Unit::none, Unit::seconds, Unit::bytes, Unit::percent, Unit::counter}) {
            for (std::size_t i = 0; i < values.size(); ++i) {
                PerfDatum d = datum(label, values[i], unit);
                d.warning = ranges[i % ranges.size()];
                d.critical = ranges[(i / 2) % ranges.size()];
                d.min = bounds[i % bounds.size()];
                d.max = bounds[(i / 3) % bounds.size()];
                check_grammar(format_perfdatum(d));
                ++checked;
            }
        }
    }
    BOOST_TEST(checked > 1000u);
}
