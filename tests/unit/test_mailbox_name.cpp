// IMAP mailbox names: modified UTF-7 (RFC 3501 §5.1.3) both ways, UTF-8 validation.
#define BOOST_TEST_MODULE mailbox_name
#include <boost/test/unit_test.hpp>

#include "mailbox/mailbox_name.hpp"

using namespace mailprobe::mailbox::imap;

namespace {
struct Pair {
    const char* utf8;
    const char* mutf7;
};
// RFC 3501 §5.1.3's example, RFC 2152-style cases and the names of issue 11.
const Pair k_pairs[] = {
    {"INBOX", "INBOX"},
    {"~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
     "~peter/mail/&U,BTFw-/&ZeVnLIqe-"},
    {"\xc3\x9cn\xc3\xaf" "code Test", "&ANw-n&AO8-code Test"},
    {"Entw\xc3\xbcrfe", "Entw&APw-rfe"},
    {"Tom & Jerry", "Tom &- Jerry"},
    {"&", "&-"},
    {"\xe2\x82\xac", "&IKw-"},                   // one BMP character
    {"\xf0\x9f\x93\xa7 mail", "&2D3c5w- mail"},  // U+1F4E7: a surrogate pair
    {"", ""},
};
}  // namespace

BOOST_AUTO_TEST_CASE(encodes_and_decodes_the_rfc_examples) {
    for (const auto& p : k_pairs) {
        BOOST_TEST(encode_mailbox_name(p.utf8) == p.mutf7);
        auto back = decode_mailbox_name(p.mutf7);
        BOOST_REQUIRE_MESSAGE(back, p.mutf7);
        BOOST_TEST(*back == p.utf8);
    }
}

BOOST_AUTO_TEST_CASE(decoding_rejects_what_rfc_3501_forbids) {
    const char* bad[] = {
        "&ANw",         // shift never ended
        "&A*w-",        // not modified base64 ('*')
        "&AN/-",        // '/' is ',' in modified base64
        "&AEE-",        // "A" encoded although printable ASCII
        "&2D0-",        // high surrogate alone
        "&3OcAQQ-",     // low surrogate first
        "&ANx-",        // padding bits not zero
        "caf\xc3\xa9",  // raw 8-bit
    };
    for (const char* s : bad) BOOST_TEST(!decode_mailbox_name(s), s);
}

BOOST_AUTO_TEST_CASE(utf8_validation) {
    BOOST_TEST(valid_utf8("INBOX"));
    BOOST_TEST(valid_utf8("\xc3\x9cn\xc3\xaf" "code"));
    BOOST_TEST(valid_utf8("\xf0\x9f\x93\xa7"));
    const char* bad[] = {
        "\xc3",              // truncated
        "\xc3\x28",          // bad continuation
        "\xc0\xaf",          // overlong '/'
        "\xe0\x80\xaf",      // overlong, three bytes
        "\xed\xa0\x80",      // UTF-16 surrogate
        "\xf4\x90\x80\x80",  // above U+10FFFF
        "\xff",              // never valid
        "Latin-1 \xe9t\xe9",
    };
    for (const char* s : bad) BOOST_TEST(!valid_utf8(s), s);
}
