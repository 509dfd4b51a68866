// The stale-probe scan marks kept between runs (issue 15): text form, and what a damaged
// file turns into (no marks: a whole-folder scan, never a skipped probe).
#define BOOST_TEST_MODULE stale_scan
#include <boost/test/unit_test.hpp>

#include "checks/stale_scan.hpp"

using mailprobe::checks::StaleScanMemory;
using mailprobe::mailbox::ScanMark;
using mailprobe::mailbox::ScanMarks;

BOOST_AUTO_TEST_CASE(round_trips_folders_with_any_name) {
    ScanMarks marks{{"INBOX", ScanMark{1700000000, 42}},
                    {"\xc3\x9cn\xc3\xaf"
                     "code Test",
                     ScanMark{7, 1}},
                    {"with space=and%percent", ScanMark{4294967295u, 4294967295u}}};
    auto text = StaleScanMemory::serialize(marks);
    BOOST_TEST(text.starts_with("mailprobe-scan 1\n"));
    auto back = StaleScanMemory::parse(text);
    BOOST_REQUIRE(back);
    BOOST_TEST((*back == marks));
}

BOOST_AUTO_TEST_CASE(damaged_files_give_no_marks) {
    const char* bad[] = {
        "",                                         // empty
        "mailprobe-scan 2\n1 2 INBOX\n",            // another version
        "mailprobe-scan 1\n1 2\n",                  // no folder
        "mailprobe-scan 1\nx 2 INBOX\n",            // not a number
        "mailprobe-scan 1\n1 -2 INBOX\n",           // negative
        "mailprobe-scan 1\n1 99999999999 INBOX\n",  // beyond 32 bits
        "mailprobe-scan 1\n1 2 IN%ZZBOX\n",         // bad escape
    };
    for (const char* text : bad) BOOST_TEST(!StaleScanMemory::parse(text), text);
    BOOST_TEST(StaleScanMemory::parse("mailprobe-scan 1\n")->empty());
}
