// The pieces of IMAP responses the sessions read themselves (mailbox/imap_parse.hpp), on the
// examples of RFC 3501/9051, on what Dovecot and Cyrus send, and on hostile lines: numbers
// beyond 32 bits, missing parts, stray spaces. Anything malformed is "not understood"
// (nullopt), never a guess.
#define BOOST_TEST_MODULE imap_parse
#include <boost/test/unit_test.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "mailbox/imap_parse.hpp"

using namespace mailprobe::mailbox::imap;

namespace {

using Uids = std::vector<std::uint32_t>;
using Words = std::vector<std::string>;

std::string show(const std::optional<Uids>& v) {
    if (!v) return "nullopt";
    std::string out = "{";
    for (auto n : *v) out += (out.size() > 1 ? "," : "") + std::to_string(n);
    return out + "}";
}

template <typename T>
std::string show(const std::optional<T>& v) {
    return v ? std::to_string(*v) : "nullopt";
}

std::string show(const std::optional<Words>& v) {
    if (!v) return "nullopt";
    std::string out = "{";
    for (const auto& w : *v) out += (out.size() > 1 ? "," : "") + w;
    return out + "}";
}

}  // namespace

BOOST_AUTO_TEST_CASE(search_responses_give_their_numbers_or_nothing) {
    struct Case {
        std::string line;
        std::optional<Uids> expected;
    };
    const std::vector<Case> cases = {
        {"* SEARCH 2 3 6", Uids{2, 3, 6}},                // RFC 3501 6.4.4
        {"* SEARCH", Uids{}},                             // nothing matched
        {"* SEARCH ", Uids{}},                            // a trailing space after an empty result
        {"* search 17", Uids{17}},                        // keywords are case-insensitive
        {"* SEARCH 4294967295", Uids{4294967295U}},       // the largest UID (2^32 - 1)
        {"* SEARCH 2 5 (MODSEQ 917162500)", Uids{2, 5}},  // RFC 7162 CONDSTORE modifier
        {"* SEARCH 4294967296", std::nullopt},            // beyond 32 bits
        {"* SEARCH 99999999999999999999", std::nullopt},  // far beyond
        {"* SEARCH 0", std::nullopt},                     // no message has number 0
        {"* SEARCH 2  3", std::nullopt},                  // an empty field
        {"* SEARCH -1", std::nullopt},
        {"* SEARCH +1", std::nullopt},
        {"* SEARCH 12abc", std::nullopt},
        {"* SEARCHING 1", std::nullopt},
        {"* SEARCH1", std::nullopt},
        {"* ESEARCH (TAG \"a1\") UID ALL 4:7", std::nullopt},  // RFC 4731: not this parser's
        {"a1 OK SEARCH completed", std::nullopt},
        {"", std::nullopt},
    };
    for (const auto& c : cases) {
        BOOST_TEST(show(parse_search(c.line)) == show(c.expected), "'" << c.line << "'");
    }
}

BOOST_AUTO_TEST_CASE(numbered_responses_match_the_whole_word) {
    struct Case {
        std::string line;
        std::string word;
        std::optional<std::uint32_t> expected;
    };
    const std::vector<Case> cases = {
        {"* 172 EXISTS", "EXISTS", 172},  // RFC 3501 7.3.1
        {"* 0 EXISTS", "EXISTS", 0},      // an empty mailbox
        {"* 44 EXPUNGE", "EXPUNGE", 44},  // RFC 3501 7.4.1
        {"* 3 exists", "EXISTS", 3},
        {"* 4294967295 EXISTS", "EXISTS", 4294967295U},
        {"* 4294967296 EXISTS", "EXISTS", std::nullopt},
        {"* 1 RECENT", "EXISTS", std::nullopt},         // another word
        {"* 12 EXISTSX", "EXISTS", std::nullopt},       // a longer word
        {"* 12 EXISTS extra", "EXISTS", std::nullopt},  // more after the word
        {"* 12 FETCH (FLAGS (\\Seen))", "FETCH", std::nullopt},
        {"* EXISTS", "EXISTS", std::nullopt},      // no number
        {"*  12 EXISTS", "EXISTS", std::nullopt},  // an empty number field
        {"* x12 EXISTS", "EXISTS", std::nullopt},
        {"a1 12 EXISTS", "EXISTS", std::nullopt},  // tagged, not untagged
        {"* 12", "EXISTS", std::nullopt},
    };
    for (const auto& c : cases) {
        BOOST_TEST(show(parse_numbered(c.line, c.word)) == show(c.expected),
                   "'" << c.line << "' / " << c.word);
    }
}

BOOST_AUTO_TEST_CASE(a_literal_is_announced_only_at_the_end_of_the_line) {
    struct Case {
        std::string line;
        std::optional<std::size_t> expected;
    };
    const std::vector<Case> cases = {
        {"* 12 FETCH (BODY[HEADER] {342}", 342},            // RFC 3501 6.4.5
        {"* 3 FETCH (UID 17 BODY[HEADER] {345}", 345},      // Dovecot
        {"a3 APPEND saved-messages (\\Seen) {310+}", 310},  // LITERAL+ (RFC 7888)
        {"* 1 FETCH (UID 9 BINARY[] ~{12}", 12},            // RFC 9051 literal8
        {"* 1 FETCH (BODY[HEADER] {0}", 0},
        {"{999999999999}", 999999999999U},         // twelve digits still read
        {"{9999999999999}", std::nullopt},         // thirteen: refused
        {"{18446744073709551616}", std::nullopt},  // beyond 64 bits
        {"* 1 FETCH (BODY[HEADER] {}", std::nullopt},
        {"* 1 FETCH (BODY[HEADER] {+}", std::nullopt},
        {"* 1 FETCH (BODY[HEADER] {-1}", std::nullopt},
        {"* 1 FETCH (BODY[HEADER] {12a}", std::nullopt},
        {"* 1 FETCH (BODY[HEADER] { 12}", std::nullopt},
        {"* 1 FETCH (BODY[HEADER] {12} ", std::nullopt},  // not the last character
        {"* 1 FETCH (BODY[HEADER] NIL)", std::nullopt},
        {"}", std::nullopt},
        {"", std::nullopt},
    };
    for (const auto& c : cases) {
        BOOST_TEST(show(literal_size(c.line)) == show(c.expected), "'" << c.line << "'");
    }
}

BOOST_AUTO_TEST_CASE(fetch_uid_reads_the_uid_item_of_an_untagged_fetch) {
    struct Case {
        std::string line;
        std::optional<std::uint32_t> expected;
    };
    const std::vector<Case> cases = {
        {"* 23 FETCH (FLAGS (\\Seen) UID 4827313)", 4827313},  // RFC 3501 6.4.8
        {"* 3 FETCH (UID 17 BODY[HEADER] {345}", 17},          // Dovecot
        {"* 1 FETCH (UID 9 INTERNALDATE \"27-Nov-2026 17:32:05 +0000\" BODY[HEADER] {2}", 9},
        {"* 2 FETCH (FLAGS (\\Seen \\Deleted) UID 12)", 12},
        {"* 2 fetch (uid 12)", 12},
        {"* 2 FETCH (XUID 5 UID 6)", 6},  // only a whole item name counts
        {"* 2 FETCH (UID 4294967295)", 4294967295U},
        {"* 2 FETCH (UID 4294967296)", std::nullopt},
        {"* 2 FETCH (UID )", std::nullopt},
        {"* 2 FETCH (UID)", std::nullopt},
        {"* 2 FETCH (UID abc)", std::nullopt},
        {"* 12 FETCH (BODY[HEADER] {342}", std::nullopt},  // no UID item
        {"* 2 FETCH", std::nullopt},
        {"* OK (UID 5)", std::nullopt},  // not a FETCH response
        {"* 2 STORE (UID 5)", std::nullopt},
        {"a1 FETCH (UID 5)", std::nullopt},  // tagged
        {"", std::nullopt},
    };
    for (const auto& c : cases) {
        BOOST_TEST(show(fetch_uid(c.line)) == show(c.expected), "'" << c.line << "'");
    }
}

BOOST_AUTO_TEST_CASE(internaldate_becomes_unix_milliseconds) {
    struct Case {
        std::string line;
        std::optional<std::int64_t> expected;
    };
    const std::vector<Case> cases = {
        // RFC 3501 6.4.5's example date, with its zone
        {"* 12 FETCH (INTERNALDATE \"17-Jul-1996 02:44:25 -0700\")", 837596665000},
        {"* 1 FETCH (UID 9 INTERNALDATE \"27-Nov-2026 17:32:05 +0000\" BODY[HEADER] {2}",
         1795800725000},
        {"* 1 FETCH (INTERNALDATE \"01-Dec-2026 04:05:06 +0100\")", 1796094306000},
        // date-day-fixed = (SP DIGIT) / 2DIGIT: Cyrus pads a one-digit day with a space
        {"* 1 FETCH (INTERNALDATE \" 7-Dec-2026 09:00:00 +0000\")", 1796634000000},
        {"* 1 FETCH (INTERNALDATE \"7-Dec-2026 09:00:00 +0000\")", 1796634000000},
        {"* 1 FETCH (INTERNALDATE \"31-Foo-2026 09:00:00 +0000\")", std::nullopt},
        {"* 1 FETCH (INTERNALDATE \"yesterday\")", std::nullopt},
        {"* 1 FETCH (INTERNALDATE \"\")", std::nullopt},
        {"* 1 FETCH (INTERNALDATE \"27-Nov-2026 17:32:05 +0000)", std::nullopt},  // unclosed
        {"* 1 FETCH (INTERNALDATE \"27-Nov-2026 17:32:05 +0000" + std::string(40, ' ') + "\")",
         std::nullopt},  // longer than any date
        {"* 1 FETCH (INTERNALDATE NIL)", std::nullopt},
        {"* 1 FETCH (UID 9)", std::nullopt},
    };
    for (const auto& c : cases) {
        BOOST_TEST(show(fetch_internaldate_ms(c.line)) == show(c.expected), "'" << c.line << "'");
    }
}

BOOST_AUTO_TEST_CASE(capabilities_come_from_the_response_or_the_greeting_code) {
    struct Case {
        std::string line;
        std::optional<Words> expected;
    };
    const std::vector<Case> cases = {
        // RFC 3501 6.1.1
        {"* CAPABILITY IMAP4rev1 STARTTLS AUTH=GSSAPI LOGINDISABLED",
         Words{"IMAP4REV1", "STARTTLS", "AUTH=GSSAPI", "LOGINDISABLED"}},
        // Dovecot's greeting
        {"* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ STARTTLS "
         "AUTH=PLAIN] Dovecot (Debian) ready.",
         Words{"IMAP4REV1", "SASL-IR", "LOGIN-REFERRALS", "ID", "ENABLE", "IDLE", "LITERAL+",
               "STARTTLS", "AUTH=PLAIN"}},
        // Dovecot after LOGIN, in the tagged OK: only untagged lines count
        {"a1 OK [CAPABILITY IMAP4rev1 UIDPLUS] Logged in", std::nullopt},
        {"* CAPABILITY imap4rev2 idle uidplus", Words{"IMAP4REV2", "IDLE", "UIDPLUS"}},
        {"* CAPABILITY  IMAP4rev1   IDLE ", Words{"IMAP4REV1", "IDLE"}},
        {"* CAPABILITY ", Words{}},
        {"* CAPABILITY", std::nullopt},
        {"* OK Dovecot ready.", std::nullopt},
        {"", std::nullopt},
    };
    for (const auto& c : cases) {
        BOOST_TEST(show(parse_capabilities(c.line)) == show(c.expected), "'" << c.line << "'");
    }
}

BOOST_AUTO_TEST_CASE(response_codes_give_their_number) {
    struct Case {
        std::string line;
        std::string code;
        std::optional<std::uint32_t> expected;
    };
    const std::vector<Case> cases = {
        {"* OK [UIDNEXT 4392] Predicted next UID", "UIDNEXT", 4392},  // RFC 3501 6.3.1
        {"* OK [UIDVALIDITY 3857529045] UIDs valid", "UIDVALIDITY", 3857529045U},
        {"* OK [UIDVALIDITY 3857529045] UIDs valid", "UIDNEXT", std::nullopt},
        {"* OK [UIDNEXT 0] Predicted next UID", "UIDNEXT", 0},
        {"* OK [UIDNEXT 4294967296] Predicted next UID", "UIDNEXT", std::nullopt},
        {"* OK [UIDNEXT] Predicted next UID", "UIDNEXT", std::nullopt},
        {"* OK [UIDNEXT ] Predicted next UID", "UIDNEXT", std::nullopt},
        {"* OK [UIDNEXT 42 ] Predicted next UID", "UIDNEXT", std::nullopt},
        {"* OK [UIDNEXT abc] Predicted next UID", "UIDNEXT", std::nullopt},
        {"* OK [XUIDNEXT 42] other code", "UIDNEXT", std::nullopt},
        {"* OK UIDNEXT 42 outside brackets", "UIDNEXT", std::nullopt},
        // two numbers (APPENDUID/COPYUID) are not one number
        {"a2 OK [APPENDUID 38505 3955] APPEND completed", "APPENDUID", std::nullopt},
    };
    for (const auto& c : cases) {
        BOOST_TEST(show(response_code_number(c.line, c.code)) == show(c.expected),
                   "'" << c.line << "' / " << c.code);
    }
}

BOOST_AUTO_TEST_CASE(quote_escapes_only_quote_and_backslash) {
    BOOST_TEST(quote("INBOX") == "\"INBOX\"");
    BOOST_TEST(quote("") == "\"\"");
    BOOST_TEST(quote("Junk E-mail") == "\"Junk E-mail\"");
    BOOST_TEST(quote("a\"b\\c") == "\"a\\\"b\\\\c\"");
    BOOST_TEST(quote("Entw&APw-rfe") == "\"Entw&APw-rfe\"");  // modified UTF-7 kept as given
    BOOST_TEST(quote("Entw\xc3\xbcrfe") == "\"Entw\xc3\xbcrfe\"");
}

BOOST_AUTO_TEST_CASE(uid_sets_list_the_uids_in_order_given) {
    BOOST_TEST(uid_set({}) == "");
    BOOST_TEST(uid_set({7}) == "7");
    BOOST_TEST(uid_set({1, 5, 7}) == "1,5,7");
    BOOST_TEST(uid_set({9, 3}) == "9,3");
    BOOST_TEST(uid_set({4294967295U, 1}) == "4294967295,1");
}
