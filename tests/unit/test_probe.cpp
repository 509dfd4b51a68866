#define BOOST_TEST_MODULE probe
#include <boost/test/unit_test.hpp>
#include <cctype>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "probe/probe.hpp"

using namespace mailprobe::probe;

namespace {

const Identity k_identity{"roundtrip mx1 -> imap", "0123456789abcdef-shared-key"};
constexpr std::int64_t k_now = 1700000000123;

MessageFields fields() {
    MessageFields f;
    f.from = "probe@example.org";
    f.to = {"inbox@example.net", "second@example.net"};
    f.subject_prefix = "mailprobe";
    f.hostname = "monitor.example.org";
    f.via = "smtp://mx.example.net:25";
    return f;
}

// Flips one hex digit (keeps the value hex and the length unchanged).
std::string flip(std::string s, std::size_t at = 0) {
    s[at] = s[at] == '0' ? '1' : '0';
    return s;
}

std::string valid_header() {
    return make_probe(k_identity, k_now).header_value();
}

// Splits a message into header lines (without CRLF) up to the empty line.
std::vector<std::string> header_lines(const std::string& message) {
    std::vector<std::string> lines;
    std::size_t start = 0;
    for (;;) {
        auto end = message.find("\r\n", start);
        if (end == std::string::npos) break;
        std::string line = message.substr(start, end - start);
        start = end + 2;
        if (line.empty()) break;
        lines.push_back(line);
    }
    return lines;
}

std::size_t count_headers(const std::vector<std::string>& headers, const std::string& name) {
    std::size_t n = 0;
    for (const auto& h : headers) {
        if (h.rfind(name + ":", 0) == 0) ++n;
    }
    return n;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(tags)

BOOST_AUTO_TEST_CASE(fresh_probe_verifies) {
    Probe p = make_probe(k_identity, k_now);
    BOOST_TEST(verify(k_identity, p));
    BOOST_TEST(p.id.size() == 32u);
    BOOST_TEST(std::regex_match(p.id, std::regex("[0-9a-f]{32}")));
    BOOST_TEST(p.tag.size() == 64u);
    BOOST_TEST(std::regex_match(p.tag, std::regex("[0-9a-f]{64}")));
    BOOST_TEST(p.name_digest == k_identity.name_digest());
    BOOST_TEST(std::regex_match(p.name_digest, std::regex("[0-9a-f]{16}")));
    BOOST_TEST(p.sent_ms == k_now);
    BOOST_TEST(p.tag == compute_tag(k_identity, p.id, k_now));
}

BOOST_AUTO_TEST_CASE(changed_id_fails) {
    Probe p = make_probe(k_identity, k_now);
    p.id = flip(p.id, 31);
    BOOST_TEST(!verify(k_identity, p));
}

BOOST_AUTO_TEST_CASE(changed_time_fails) {
    Probe p = make_probe(k_identity, k_now);
    p.sent_ms += 1;
    BOOST_TEST(!verify(k_identity, p));
    p.sent_ms -= 2;
    BOOST_TEST(!verify(k_identity, p));
}

BOOST_AUTO_TEST_CASE(changed_tag_fails) {
    Probe p = make_probe(k_identity, k_now);
    for (std::size_t at : {0u, 31u, 63u}) {
        Probe q = p;
        q.tag = flip(q.tag, at);
        BOOST_TEST(!verify(k_identity, q), "flipped tag digit " << at);
    }
    Probe shorter = p;
    shorter.tag.pop_back();
    BOOST_TEST(!verify(k_identity, shorter));
    Probe empty = p;
    empty.tag.clear();
    BOOST_TEST(!verify(k_identity, empty));
    Probe upper = p;
    for (auto& c : upper.tag) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (upper.tag != p.tag) BOOST_TEST(!verify(k_identity, upper));
}

BOOST_AUTO_TEST_CASE(changed_name_digest_fails) {
    Probe p = make_probe(k_identity, k_now);
    p.name_digest = flip(p.name_digest);
    BOOST_TEST(!verify(k_identity, p));
}

BOOST_AUTO_TEST_CASE(other_key_fails) {
    Probe p = make_probe(k_identity, k_now);
    Identity other{k_identity.name, k_identity.key + "x"};
    BOOST_TEST(!verify(other, p));
    Identity empty_key{k_identity.name, ""};
    BOOST_TEST(!verify(empty_key, p));
}

BOOST_AUTO_TEST_CASE(other_probe_name_fails) {
    Probe p = make_probe(k_identity, k_now);
    Identity other{k_identity.name + "2", k_identity.key};
    BOOST_TEST(!verify(other, p));
    BOOST_TEST(other.name_digest() != k_identity.name_digest());
    // Even with the digest forged to match the other name, the tag covers the full name.
    Probe forged = p;
    forged.name_digest = other.name_digest();
    BOOST_TEST(!verify(other, forged));
}

BOOST_AUTO_TEST_CASE(tag_binds_name_id_and_time_unambiguously) {
    // Moving characters between name and id must change the tag.
    Identity a{"check1", "key"};
    Identity b{"check", "key"};
    std::string id(32, 'a');
    BOOST_TEST(compute_tag(a, id, 5) != compute_tag(b, "1" + id.substr(1), 5));
    BOOST_TEST(compute_tag(a, id, 15) != compute_tag(a, id, 51));
    BOOST_TEST(compute_tag(a, id, 15) == compute_tag(a, id, 15));
}

BOOST_AUTO_TEST_CASE(digest_is_stable) {
    const Identity same_name{k_identity.name, "other key"};
    const Identity a{"a", "k"}, b{"b", "k"}, abc{"abc", ""};
    BOOST_TEST(k_identity.name_digest() == same_name.name_digest());
    BOOST_TEST(a.name_digest() != b.name_digest());
    // SHA-256("abc") starts with ba7816bf8f01cfea.
    BOOST_TEST(abc.name_digest() == "ba7816bf8f01cfea");
}

BOOST_AUTO_TEST_CASE(ids_unique) {
    std::set<std::string> ids;
    for (int i = 0; i < 1000; ++i) ids.insert(make_probe(k_identity, k_now).id);
    BOOST_TEST(ids.size() == 1000u);
    BOOST_TEST(random_hex(4).size() == 8u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(header)

BOOST_AUTO_TEST_CASE(header_value_format) {
    Probe p = make_probe(k_identity, k_now);
    BOOST_TEST(p.header_value() ==
               "v=1; n=" + p.name_digest + "; id=" + p.id + "; t=1700000000123; tag=" + p.tag);
}

BOOST_AUTO_TEST_CASE(round_trip) {
    Probe p = make_probe(k_identity, k_now);
    auto parsed = parse_header_value(p.header_value());
    BOOST_TEST_REQUIRE(parsed.has_value());
    BOOST_TEST(parsed->id == p.id);
    BOOST_TEST(parsed->name_digest == p.name_digest);
    BOOST_TEST(parsed->sent_ms == p.sent_ms);
    BOOST_TEST(parsed->tag == p.tag);
    BOOST_TEST(verify(k_identity, *parsed));
}

BOOST_AUTO_TEST_CASE(extra_spaces_tolerated) {
    Probe p = make_probe(k_identity, k_now);
    std::string spaced = "  v=1 ;\tn=" + p.name_digest + " ;  id=" + p.id +
                         ";t=" + std::to_string(k_now) + " ;   tag=" + p.tag + "  \r";
    auto parsed = parse_header_value(spaced);
    BOOST_TEST_REQUIRE(parsed.has_value());
    BOOST_TEST(verify(k_identity, *parsed));
}

BOOST_AUTO_TEST_CASE(field_order_and_unknown_fields) {
    Probe p = make_probe(k_identity, k_now);
    std::string reordered = "tag=" + p.tag + "; x=whatever; t=" + std::to_string(k_now) +
                            "; id=" + p.id + "; n=" + p.name_digest + "; v=1";
    auto parsed = parse_header_value(reordered);
    BOOST_TEST_REQUIRE(parsed.has_value());
    BOOST_TEST(verify(k_identity, *parsed));
}

BOOST_AUTO_TEST_CASE(missing_fields) {
    Probe p = make_probe(k_identity, k_now);
    std::string t = std::to_string(k_now);
    std::string v = "v=1", n = "n=" + p.name_digest, id = "id=" + p.id, tm = "t=" + t,
                tag = "tag=" + p.tag;
    BOOST_TEST(!parse_header_value(n + "; " + id + "; " + tm + "; " + tag));
    BOOST_TEST(!parse_header_value(v + "; " + id + "; " + tm + "; " + tag));
    BOOST_TEST(!parse_header_value(v + "; " + n + "; " + tm + "; " + tag));
    BOOST_TEST(!parse_header_value(v + "; " + n + "; " + id + "; " + tag));
    BOOST_TEST(!parse_header_value(v + "; " + n + "; " + id + "; " + tm));
    BOOST_TEST(!parse_header_value(""));
    BOOST_TEST(!parse_header_value(";;;"));
    BOOST_TEST(!parse_header_value("v=1; n; id=" + p.id));
}

BOOST_AUTO_TEST_CASE(wrong_lengths) {
    Probe p = make_probe(k_identity, k_now);
    auto with = [&](std::string n, std::string id, std::string tag) {
        return "v=1; n=" + n + "; id=" + id + "; t=" + std::to_string(k_now) + "; tag=" + tag;
    };
    BOOST_TEST(parse_header_value(with(p.name_digest, p.id, p.tag)).has_value());
    BOOST_TEST(!parse_header_value(with(p.name_digest + "0", p.id, p.tag)));
    BOOST_TEST(!parse_header_value(with(p.name_digest.substr(1), p.id, p.tag)));
    BOOST_TEST(!parse_header_value(with(p.name_digest, p.id + "0", p.tag)));
    BOOST_TEST(!parse_header_value(with(p.name_digest, p.id.substr(1), p.tag)));
    BOOST_TEST(!parse_header_value(with(p.name_digest, p.id, p.tag + "0")));
    BOOST_TEST(!parse_header_value(with(p.name_digest, p.id, p.tag.substr(1))));
    BOOST_TEST(!parse_header_value(with("", p.id, p.tag)));
}

BOOST_AUTO_TEST_CASE(non_hex_and_uppercase) {
    Probe p = make_probe(k_identity, k_now);
    auto with = [&](std::string n, std::string id, std::string tag) {
        return "v=1; n=" + n + "; id=" + id + "; t=" + std::to_string(k_now) + "; tag=" + tag;
    };
    std::string bad_id = p.id;
    bad_id[5] = 'g';
    BOOST_TEST(!parse_header_value(with(p.name_digest, bad_id, p.tag)));
    std::string upper_id = p.id;
    upper_id[0] = 'A';
    BOOST_TEST(!parse_header_value(with(p.name_digest, upper_id, p.tag)));
    std::string upper_tag = p.tag;
    upper_tag[10] = 'F';
    BOOST_TEST(!parse_header_value(with(p.name_digest, p.id, upper_tag)));
    std::string bad_n = p.name_digest;
    bad_n[15] = 'z';
    BOOST_TEST(!parse_header_value(with(bad_n, p.id, p.tag)));
    std::string spaced_tag = p.tag;
    spaced_tag[32] = ' ';
    BOOST_TEST(!parse_header_value(with(p.name_digest, p.id, spaced_tag)));
}

BOOST_AUTO_TEST_CASE(version_and_time) {
    Probe p = make_probe(k_identity, k_now);
    auto with = [&](std::string v, std::string t) {
        return "v=" + v + "; n=" + p.name_digest + "; id=" + p.id + "; t=" + t + "; tag=" + p.tag;
    };
    BOOST_TEST(parse_header_value(with("1", "5")).has_value());
    BOOST_TEST(!parse_header_value(with("2", std::to_string(k_now))));
    BOOST_TEST(!parse_header_value(with("", std::to_string(k_now))));
    BOOST_TEST(!parse_header_value(with("1.0", std::to_string(k_now))));
    BOOST_TEST(!parse_header_value(with("1", "-5")));
    BOOST_TEST(!parse_header_value(with("1", "0")));
    BOOST_TEST(!parse_header_value(with("1", "abc")));
    BOOST_TEST(!parse_header_value(with("1", "12abc")));
    BOOST_TEST(!parse_header_value(with("1", "")));
    BOOST_TEST(!parse_header_value(with("1", "+5")));
    BOOST_TEST(!parse_header_value(with("1", "99999999999999999999999")));
}

BOOST_AUTO_TEST_CASE(garbage) {
    BOOST_TEST(!parse_header_value(std::string(10 * 1024, 'a')));
    std::string big = valid_header() + "; x=" + std::string(10 * 1024, 'b');
    BOOST_TEST(!parse_header_value(big));
    BOOST_TEST(!parse_header_value("hello world"));
    BOOST_TEST(!parse_header_value("===="));
    BOOST_TEST(!parse_header_value(std::string("v=1\0; n=", 8)));
    std::string many_semicolons(10 * 1024, ';');
    BOOST_TEST(!parse_header_value(many_semicolons));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(message)

BOOST_AUTO_TEST_CASE(crlf_only) {
    Probe p = make_probe(k_identity, k_now);
    std::string m = build_message(p, k_identity.name, fields());
    BOOST_TEST(m.size() > 100u);
    for (std::size_t i = 0; i < m.size(); ++i) {
        if (m[i] == '\n') BOOST_TEST_REQUIRE((i > 0 && m[i - 1] == '\r'), "bare LF at " << i);
        if (m[i] == '\r')
            BOOST_TEST_REQUIRE((i + 1 < m.size() && m[i + 1] == '\n'), "bare CR at " << i);
    }
    BOOST_TEST(m.substr(m.size() - 2) == "\r\n");
}

BOOST_AUTO_TEST_CASE(required_headers) {
    Probe p = make_probe(k_identity, k_now);
    std::string m = build_message(p, k_identity.name, fields());
    auto headers = header_lines(m);
    for (const char* name :
         {"Date", "From", "To", "Subject", "Message-ID", "MIME-Version", "X-Mailprobe"}) {
        BOOST_TEST(count_headers(headers, name) == 1u, name);
    }
    BOOST_TEST(count_headers(headers, "Date") == 1u);
    std::string subject, xmp, date, message_id, to;
    for (const auto& h : headers) {
        if (h.rfind("Subject: ", 0) == 0) subject = h.substr(9);
        if (h.rfind("X-Mailprobe: ", 0) == 0) xmp = h.substr(13);
        if (h.rfind("Date: ", 0) == 0) date = h.substr(6);
        if (h.rfind("Message-ID: ", 0) == 0) message_id = h.substr(12);
        if (h.rfind("To: ", 0) == 0) to = h.substr(4);
    }
    BOOST_TEST(subject.find(p.id) != std::string::npos, subject);
    BOOST_TEST(subject.find("[mailprobe]") != std::string::npos, subject);
    BOOST_TEST(xmp == p.header_value());
    BOOST_TEST(date == rfc5322_date(k_now));
    BOOST_TEST(message_id == "<mailprobe." + p.id + "@monitor.example.org>");
    BOOST_TEST(to == "<inbox@example.net>, <second@example.net>");
    auto parsed = parse_header_value(xmp);
    BOOST_TEST_REQUIRE(parsed.has_value());
    BOOST_TEST(verify(k_identity, *parsed));
}

BOOST_AUTO_TEST_CASE(header_block_ends_with_empty_line) {
    Probe p = make_probe(k_identity, k_now);
    std::string m = build_message(p, k_identity.name, fields());
    auto blank = m.find("\r\n\r\n");
    BOOST_TEST_REQUIRE(blank != std::string::npos);
    std::string head = m.substr(0, blank + 2);
    std::string body = m.substr(blank + 4);
    BOOST_TEST(head.find("X-Mailprobe: ") != std::string::npos);
    BOOST_TEST(!body.empty());
    BOOST_TEST(body.find("X-Mailprobe") == std::string::npos);
    // Every header line is "Name: value" (no continuation or stray lines).
    for (const auto& h : header_lines(m)) {
        BOOST_TEST(std::regex_match(h, std::regex("[A-Za-z-]+: .*")), h);
    }
}

BOOST_AUTO_TEST_CASE(probe_name_cannot_inject_headers) {
    Probe p = make_probe(k_identity, k_now);
    std::string evil = "name\r\nBcc: victim@example.com\r\n\r\nX-Evil: 1\nSubject: spoof\r";
    std::string m = build_message(p, evil, fields());
    auto headers = header_lines(m);
    BOOST_TEST(count_headers(headers, "Bcc") == 0u);
    BOOST_TEST(count_headers(headers, "X-Evil") == 0u);
    BOOST_TEST(count_headers(headers, "Subject") == 1u);
    for (std::size_t i = 0; i < m.size(); ++i) {
        if (m[i] == '\n') BOOST_TEST_REQUIRE((i > 0 && m[i - 1] == '\r'), "bare LF at " << i);
    }
    // No line of the body starts with an injected header either.
    BOOST_TEST(m.find("\r\nBcc:") == std::string::npos);
    BOOST_TEST(m.find("\r\nX-Evil:") == std::string::npos);
    BOOST_TEST(m.find("\nSubject: spoof") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(epoch_date) {
    BOOST_TEST(rfc5322_date(0) == "Thu, 1 Jan 1970 00:00:00 +0000");
    BOOST_TEST(rfc5322_date(999) == "Thu, 1 Jan 1970 00:00:00 +0000");
    BOOST_TEST(rfc5322_date(1700000000123) == "Tue, 14 Nov 2023 22:13:20 +0000");
    BOOST_TEST(rfc5322_date(951782400000) == "Tue, 29 Feb 2000 00:00:00 +0000");
}

BOOST_AUTO_TEST_CASE(now_is_plausible) {
    auto now = unix_now_ms();
    BOOST_TEST(now > 1600000000000);  // after 2020
    BOOST_TEST(now < 4102444800000);  // before 2100
}

BOOST_AUTO_TEST_SUITE_END()
