#define BOOST_TEST_MODULE probe_message
#include <boost/test/unit_test.hpp>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "probe/canonical.hpp"
#include "probe/probe.hpp"
#include "probe/subject.hpp"
#include "probe_test_util.hpp"

using namespace mailprobe::probe;
using namespace probe_test;

namespace {

// Header lines (without CRLF) up to the empty line; continuation lines stay separate.
std::vector<std::string> header_lines(const std::string& message) {
    std::vector<std::string> lines;
    for (std::size_t start = 0;;) {
        auto end = message.find("\r\n", start);
        if (end == std::string::npos || end == start) break;
        lines.push_back(message.substr(start, end - start));
        start = end + 2;
    }
    return lines;
}

std::size_t count_fields(const std::vector<std::string>& lines, const std::string& name) {
    std::size_t n = 0;
    for (const auto& h : lines) n += h.rfind(name + ":", 0) == 0;
    return n;
}

// RFC 2047 decoding of our own "=?UTF-8?B?...?=" words (whitespace between words dropped).
std::string decode_subject(const std::string& unfolded) {
    static const std::regex word(R"(=\?UTF-8\?B\?([A-Za-z0-9+/=]*)\?=)");
    std::string out, rest = unfolded;
    std::smatch m;
    bool previous_was_word = false;
    while (std::regex_search(rest, m, word)) {
        std::string before = m.prefix();
        if (!(previous_was_word && before.find_first_not_of(" \t") == std::string::npos))
            out += before;
        out += decode_base64(m[1].str()).value_or("<bad base64>");
        previous_was_word = true;
        rest = m.suffix();
    }
    return out + rest;
}

bool valid_utf8(const std::string& s) {
    for (std::size_t i = 0; i < s.size();) {
        auto c = static_cast<unsigned char>(s[i]);
        std::size_t n = c < 0x80         ? 1
                        : (c >> 5) == 6  ? 2
                        : (c >> 4) == 14 ? 3
                        : (c >> 3) == 30 ? 4
                                         : 0;
        if (n == 0 || i + n > s.size()) return false;
        for (std::size_t k = 1; k < n; ++k)
            if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) return false;
        i += n;
    }
    return true;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(message)

BOOST_AUTO_TEST_CASE(crlf_only_and_required_fields) {
    auto m = make_probe_message(k_identity, k_now, fields());
    for (std::size_t i = 0; i < m.text.size(); ++i) {
        if (m.text[i] == '\n')
            BOOST_TEST_REQUIRE((i > 0 && m.text[i - 1] == '\r'), "bare LF " << i);
        if (m.text[i] == '\r') BOOST_TEST_REQUIRE(m.text[i + 1] == '\n', "bare CR at " << i);
    }
    auto lines = header_lines(m.text);
    for (const char* name : {"Date", "From", "To", "Subject", "Message-ID", "MIME-Version",
                             "Content-Transfer-Encoding", "X-Mailprobe"}) {
        BOOST_TEST(count_fields(lines, name) == 1u, name);
    }
    BOOST_TEST(header_of(m.text, "Subject") == "[mailprobe] probe " + m.probe.id);
    BOOST_TEST(header_of(m.text, "Date") == rfc5322_date(k_now));
    BOOST_TEST(header_of(m.text, "Message-ID") ==
               "<mailprobe." + m.probe.id + "@monitor.example.org>");
    BOOST_TEST(header_of(m.text, "To") == "<inbox@example.net>, <second@example.net>");
    std::string body = m.text.substr(body_start(m.text));
    BOOST_TEST(body.find("X-Mailprobe") == std::string::npos);
    BOOST_TEST(body.find("check 'roundtrip mx1 -> imap'") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(probe_name_cannot_inject_headers_and_body_stays_7bit) {
    Identity evil{"name\r\nBcc: victim@example.com\r\n\r\nX-Evil: 1\nSubject: spoof\r" +
                      std::string(500, 'x') + "\xc3\xa9",
                  k_identity.key};
    auto m = make_probe_message(evil, k_now, fields());
    auto lines = header_lines(m.text);
    BOOST_TEST(count_fields(lines, "Bcc") == 0u);
    BOOST_TEST(count_fields(lines, "Subject") == 1u);
    BOOST_TEST(m.text.find("\nBcc:") == std::string::npos);
    BOOST_TEST(m.text.find("\nX-Evil:") == std::string::npos);
    for (char c : m.text) BOOST_TEST_REQUIRE((static_cast<unsigned char>(c) < 0x80));
    BOOST_TEST(m.probe.body_length <= 1024u);  // the name is shown shortened
    BOOST_TEST(verify_message(evil, m.text).has_value());
}

BOOST_AUTO_TEST_CASE(ids_unique_and_digest_stable) {
    std::set<std::string> ids;
    for (int i = 0; i < 200; ++i)
        ids.insert(make_probe_message(k_identity, k_now, fields()).probe.id);
    BOOST_TEST(ids.size() == 200u);
    BOOST_TEST(Identity({"abc", ""}).name_digest() == "ba7816bf8f01cfea");  // SHA-256("abc")
    BOOST_TEST(Identity({k_identity.name, "x"}).name_digest() == k_identity.name_digest());
}

BOOST_AUTO_TEST_CASE(dates) {
    BOOST_TEST(rfc5322_date(0) == "Thu, 1 Jan 1970 00:00:00 +0000");
    BOOST_TEST(rfc5322_date(1700000000123) == "Tue, 14 Nov 2023 22:13:20 +0000");
    BOOST_TEST(rfc5322_date(951782400000) == "Tue, 29 Feb 2000 00:00:00 +0000");
    BOOST_TEST(unix_now_ms() > 1600000000000);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(subject)

BOOST_AUTO_TEST_CASE(short_ascii_is_one_plain_line) {
    BOOST_TEST(subject_field("mailprobe", "abc") == "Subject: [mailprobe] probe abc\r\n");
    BOOST_TEST(subject_field("two  spaces", "abc") == "Subject: [two  spaces] probe abc\r\n");
}

// Whatever --subject holds: no line over 998 octets (78 for plain words, 76 with encoded
// words), ASCII only, one Subject field, and a reader decodes exactly "[prefix] probe id".
BOOST_AUTO_TEST_CASE(long_and_non_ascii_prefixes_fold_and_encode) {
    std::string words, utf8;
    for (int i = 0; i < 300; ++i) words += "word" + std::to_string(i) + " ";
    for (int i = 0; i < 200; ++i)
        utf8 +=
            "Pr\xc3\xbc"
            "fung \xe2\x9c\x93 \xe6\x97\xa5\xf0\x9f\x93\xa7";
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"many words", words},
        {"one 2000-byte word", std::string(2000, 'w')},
        {"non-ASCII",
         "Pr\xc3\xbc"
         "fung"},
        {"long non-ASCII", utf8},
        {"encoded-word look-alike", "=?UTF-8?B?eA==?="},
        {"tab and DEL", "a\tb\x7f"},
    };
    const std::string id(32, 'f');
    for (const auto& [what, prefix] : cases) {
        auto m = make_probe_message(k_identity, k_now, [&] {
            auto f = fields();
            f.subject_prefix = prefix;
            return f;
        }());
        std::string field = subject_field(prefix, m.probe.id);
        BOOST_TEST(m.text.find(field) != std::string::npos, what);
        bool encoded = field.find("=?UTF-8?B?") != std::string::npos;
        for (auto& line : header_lines(m.text)) {
            BOOST_TEST(line.size() <= 998u, what);
            for (char c : line) BOOST_TEST_REQUIRE((static_cast<unsigned char>(c) < 0x80), what);
        }
        for (auto& line : header_lines(field + "\r\n")) {
            BOOST_TEST(line.size() <= (encoded ? 76u : 78u), what << ": " << line);
            BOOST_TEST(line.find_first_not_of(" \t") != std::string::npos, what);
        }
        std::string unfolded = header_of(m.text, "Subject");
        BOOST_TEST(decode_subject(unfolded) == "[" + prefix + "] probe " + m.probe.id, what);
        // each encoded word holds whole UTF-8 characters
        std::smatch w;
        for (std::string rest = unfolded;
             std::regex_search(rest, w, std::regex(R"(=\?UTF-8\?B\?([^?]*)\?=)"));
             rest = w.suffix()) {
            BOOST_TEST(valid_utf8(decode_base64(w[1].str()).value_or("\xff")), what);
        }
        BOOST_TEST(verify_message(k_identity, m.text).has_value(), what);
    }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(canonical)

BOOST_AUTO_TEST_CASE(quoted_printable_decoding) {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"plain text\r\n", "plain text\r\n"},
        {"a=3Db=3d\r\n", "a=b=\r\n"},  // upper- and lowercase hex
        {"soft=\r\nbreak\r\n", "softbreak\r\n"},
        {"soft= \t\r\nbreak", "softbreak"},     // whitespace after the soft break
        {"trailing   \r\nx", "trailing\r\nx"},  // transport-added whitespace
        {"keep =20\r\n", "keep  \r\n"},         // encoded whitespace is data
        {"a=0D=0Ab", "a\r\nb"},
        {"stray =G1 and =", "stray =G1 and "},  // last "=": a cut-off soft break
        {"cut =3", "cut =3"},
        {"lf\nonly=\nsoft\n", "lf\r\nonlysoft\r\n"},
        {"", ""},
        {"=", ""},
        {"==41", "=A"},
    };
    for (const auto& [in, want] : cases) BOOST_TEST(decode_quoted_printable(in) == want, in);
}

BOOST_AUTO_TEST_CASE(base64_decoding) {
    BOOST_TEST(decode_base64("aGVsbG8=").value() == "hello");
    BOOST_TEST(decode_base64("aGVs\r\nbG8g\nd29y\r\nbGQ=\r\n").value() == "hello world");
    BOOST_TEST(decode_base64("aGVsbG").value() == "hel");  // cut off: incomplete group left out
    BOOST_TEST(decode_base64("").value().empty());
    BOOST_TEST(!decode_base64("aGV*bG8="));
    BOOST_TEST(!decode_base64("aGVs=bG8"));
}

BOOST_AUTO_TEST_CASE(body_canonicalization) {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"a  b \t\r\n\r\n\r\n", "a b\r\n"},
        {"  lead\r\n", " lead\r\n"},
        {"lf\nonly\n", "lf\r\nonly\r\n"},
        {"no final break", "no final break\r\n"},
        {"a\r\n\r\n\r\nb\r\n", "a\r\n\r\n\r\nb\r\n"},  // empty lines inside stay
        {"\r\n \r\n\t\r\n", ""},
        {"", ""},
    };
    for (const auto& [in, want] : cases) BOOST_TEST(canonical_text(in) == want, in);
}

BOOST_AUTO_TEST_CASE(field_canonicalization) {
    std::string m =
        "Received: x\r\nsubject :  Hello\r\n\t  World  \r\nDate: d\r\n\r\nSubject: body";
    BOOST_TEST(canonical_field(m, "Subject").value() == "subject:Hello World\r\n");
    BOOST_TEST(canonical_field(m, "Date").value() == "date:d\r\n");
    BOOST_TEST(!canonical_field(m, "Message-ID"));
    BOOST_TEST(!canonical_field("Date: a\r\nDate: b\r\n\r\n", "Date"));
    BOOST_TEST(canonical_field("Date: a\nX: b\n\n", "Date").value() == "date:a\r\n");
}

BOOST_AUTO_TEST_CASE(body_by_transfer_encoding) {
    auto body = [](std::string cte, std::string text) {
        return canonical_body((cte.empty() ? "" : "Content-Transfer-Encoding: " + cte + "\r\n") +
                              "Subject: x\r\n\r\n" + text);
    };
    BOOST_TEST(body("", "a  b\r\n").value() == "a b\r\n");
    BOOST_TEST(body("7bit", "a=3D\r\n").value() == "a=3D\r\n");
    BOOST_TEST(body(" Quoted-Printable ", "a=3D\r\n").value() == "a=\r\n");
    BOOST_TEST(body("BASE64", "YSAgYg0K\r\n").value() == "a b\r\n");
    BOOST_TEST(!body("base64", "!!!!"));
    BOOST_TEST(!body("x-uuencode", "a\r\n"));
    BOOST_TEST(
        !canonical_body("Content-Transfer-Encoding: 7bit\r\nContent-Transfer-Encoding: "
                        "7bit\r\n\r\na\r\n"));
    BOOST_TEST(canonical_body("Subject: no body").value().empty());
}

BOOST_AUTO_TEST_SUITE_END()
