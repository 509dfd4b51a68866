#define BOOST_TEST_MODULE bearer_sender
#include <boost/test/unit_test.hpp>
#include <string>

#include "smtp/bearer_sender.hpp"

using namespace mailprobe::smtp;

struct DataCase {
    const char* message;
    const char* block;
};

// RFC 5321 4.5.2: a line starting with "." gets another; lines end in CRLF; "." ends it.
BOOST_AUTO_TEST_CASE(dot_stuffing_and_line_ends) {
    const DataCase cases[] = {
        {"Subject: x\r\n\r\nbody\r\n", "Subject: x\r\n\r\nbody\r\n.\r\n"},
        {"a\r\n.\r\nb\r\n", "a\r\n..\r\nb\r\n.\r\n"},
        {".leading\r\n", "..leading\r\n.\r\n"},
        {"bare\nnewlines\n.dot\n", "bare\r\nnewlines\r\n..dot\r\n.\r\n"},
        {"no final newline", "no final newline\r\n.\r\n"},
        {"middle.dot\r\n", "middle.dot\r\n.\r\n"},
        {"", ".\r\n"},
    };
    for (const auto& c : cases) {
        BOOST_TEST(smtp_data_block(c.message) == c.block, c.message);
    }
}
