#define BOOST_TEST_MODULE smtp_reply
#include <boost/test/unit_test.hpp>
#include <string>

#include "smtp/sender.hpp"

using mailprobe::smtp::parse_queue_id;

BOOST_AUTO_TEST_CASE(postfix) {
    BOOST_TEST(parse_queue_id("250 2.0.0 Ok: queued as 4F1C2A7203E") == "4F1C2A7203E");
    // Long queue ids (enable_long_queue_ids = yes).
    BOOST_TEST(parse_queue_id("250 2.0.0 Ok: queued as 4SRxbx3Rt1z9rxK") == "4SRxbx3Rt1z9rxK");
}

BOOST_AUTO_TEST_CASE(exim) {
    BOOST_TEST(parse_queue_id("250 OK id=1qAbCd-000123-4X") == "1qAbCd-000123-4X");
}

BOOST_AUTO_TEST_CASE(exchange) {
    BOOST_TEST(parse_queue_id("250 2.6.0 <abc@host> [InternalId=123, Hostname=HOST] Queued mail "
                              "for delivery") == "abc@host");
}

BOOST_AUTO_TEST_CASE(exchange_internal_id_is_not_exim_id) {
    // "InternalId=" must not be mistaken for Exim's " id=".
    std::string id = parse_queue_id(
        "250 2.6.0 <msg.1@ex.example.com> [InternalId=9876543210, Hostname=EX01.example.com] "
        "Queued mail for delivery");
    BOOST_TEST(id != "9876543210");
}

BOOST_AUTO_TEST_CASE(sendmail) {
    BOOST_TEST(parse_queue_id("250 2.0.0 392ABCDE012345 Message accepted for delivery") ==
               "392ABCDE012345");
}

BOOST_AUTO_TEST_CASE(no_id) {
    BOOST_TEST(parse_queue_id("250 2.0.0 OK") == "");
    BOOST_TEST(parse_queue_id("250 Ok") == "");
    BOOST_TEST(parse_queue_id("") == "");
    BOOST_TEST(parse_queue_id("250 2.0.0 Ok: queued as ") == "");
    BOOST_TEST(parse_queue_id("250 Message accepted for delivery") == "");
}

BOOST_AUTO_TEST_CASE(id_stops_at_punctuation) {
    BOOST_TEST(parse_queue_id("250 2.0.0 Ok: queued as ABC123, thanks") == "ABC123");
    BOOST_TEST(parse_queue_id("250 OK id=1qAbCd-000123-4X (queued)") == "1qAbCd-000123-4X");
}
