#define BOOST_TEST_MODULE certinfo
#include <boost/test/unit_test.hpp>

#include "core/error.hpp"
#include "curl/certinfo.hpp"

using namespace mailprobe;
using namespace mailprobe::curl;

BOOST_AUTO_TEST_CASE(cert_days_values) {
    auto a = parse_cert_days("30");
    BOOST_TEST(a.warning == 30);
    BOOST_TEST(!a.critical);
    auto b = parse_cert_days("30,14");
    BOOST_TEST(b.warning == 30);
    BOOST_TEST(*b.critical == 14);
    auto c = parse_cert_days("0,0");
    BOOST_TEST(c.warning == 0);
    for (const char* bad :
         {"", "x", "-1", "30,", ",14", "30,14,7", "14,30", "1.5", "30 ,14", "999999", "+3"}) {
        BOOST_CHECK_THROW(parse_cert_days(bad), UsageError);
    }
}

BOOST_AUTO_TEST_CASE(openssl_dates) {
    BOOST_TEST(*parse_cert_date("Jan  1 00:00:00 1970 GMT") == 0);
    BOOST_TEST(*parse_cert_date("Nov 27 17:32:05 2036 GMT") == 2111419925);
    BOOST_TEST(*parse_cert_date("Feb 29 12:00:00 2028 GMT") == 1835438400);
    BOOST_TEST(*parse_cert_date(" Mar  7 08:09:10.5 2030 GMT") == 1899101350);
    BOOST_TEST(*parse_cert_date("2036-11-27 17:32:05 GMT") == 2111419925);
    for (const char* bad :
         {"", "Foo 27 17:32:05 2036 GMT", "Nov 27 17:32 2036 GMT", "Nov 27 25:00:00 2036 GMT",
          "Nov 32 10:00:00 2036 GMT", "Nov 27 17:32:05 2036 CET", "2036-13-01 00:00:00 GMT",
          "2036-11-27", "Nov", "Nov 27 17:32:05"}) {
        BOOST_TEST(!parse_cert_date(bad), bad);
    }
}

BOOST_AUTO_TEST_CASE(days_round_down) {
    CertExpiry c;
    c.not_after = 100 * 86400;
    BOOST_TEST(days_left(c, 0) == 100);
    BOOST_TEST(days_left(c, 1) == 99);
    BOOST_TEST(days_left(c, 100 * 86400) == 0);
    BOOST_TEST(days_left(c, 100 * 86400 + 1) == -1);
    BOOST_TEST(days_left(c, 102 * 86400) == -2);
}
