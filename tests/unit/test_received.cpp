#define BOOST_TEST_MODULE received
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <string>

#include "relay/headers.hpp"
#include "relay/received.hpp"

using namespace mailprobe::relay;

namespace {
// 2023-10-02 08:11:12 UTC, the instant most samples below refer to.
constexpr std::int64_t t0 = 1696234272;
}  // namespace

// ---------------------------------------------------------------- header_values

BOOST_AUTO_TEST_CASE(header_values_finds_all_in_order_case_insensitive) {
    const std::string block =
        "Received: one\r\n"
        "Subject: hi\r\n"
        "RECEIVED: two\r\n"
        "received : three\r\n"
        "X-Received: not me\r\n"
        "\r\n"
        "Received: in the body\r\n";
    const auto v = header_values(block, "Received");
    BOOST_TEST(v == (std::vector<std::string>{"one", "two", "three"}),
               boost::test_tools::per_element());
    BOOST_TEST(header_values(block, "received", 2).size() == 2U);
    BOOST_TEST(header_values(block, "Subject").front() == "hi");
}

BOOST_AUTO_TEST_CASE(header_values_unfolds_crlf_and_lf) {
    const std::string crlf = "Received: from a\r\n\tby b\r\n    with SMTP;\r\n Mon\r\nX: y\r\n";
    const std::string lf = "Received: from a\n\tby b\n    with SMTP;\n Mon\nX: y\n";
    const auto a = header_values(crlf, "Received");
    const auto b = header_values(lf, "Received");
    BOOST_TEST_REQUIRE(a.size() == 1U);
    BOOST_TEST(a.front() == "from a by b with SMTP; Mon");
    BOOST_TEST(a == b, boost::test_tools::per_element());
    BOOST_TEST(unfold("  x\r\n \t y  ") == "x y");
}

BOOST_AUTO_TEST_CASE(header_values_skips_junk_and_oversized_fields) {
    std::string block = "From probe@example.org Mon Oct  2 10:11:12 2023\n";  // mbox From_ line
    block += " stray continuation\n";
    block += "no colon here\n";
    block += "Received: " + std::string(max_field_bytes, 'x') + "\n";  // over 64 KiB: ignored
    block += "Received: ok\n";
    const auto v = header_values(block, "Received");
    BOOST_TEST_REQUIRE(v.size() == 1U);
    BOOST_TEST(v.front() == "ok");
    BOOST_TEST(header_values("", "Received").empty());
    BOOST_TEST(header_values("\r\nReceived: body", "Received").empty());
}

// ---------------------------------------------------------------- parse_date

BOOST_AUTO_TEST_CASE(date_standard_forms) {
    BOOST_TEST(parse_date("Mon, 02 Oct 2023 10:11:12 +0200").value() == t0);
    BOOST_TEST(parse_date("Mon, 2 Oct 2023 08:11:12 +0000").value() == t0);
    BOOST_TEST(parse_date("Mon, 2 Oct 2023 01:11:12 -0700 (PDT)").value() == t0);
    BOOST_TEST(parse_date("2 Oct 2023 08:11:12 -0000").value() == t0);  // no day-of-week
    BOOST_TEST(parse_date("Thu, 1 Jan 1970 00:00:00 +0000").value() == 0);
    BOOST_TEST(parse_date("Wed, 31 Dec 1969 23:59:59 +0000").value() == -1);
    BOOST_TEST(parse_date("Thu, 29 Feb 2024 12:00:00 +0000").value() == 1709208000);
    BOOST_TEST(parse_date("Monday, 2 October 2023 08:11:12 +0000").value() == t0);
}

BOOST_AUTO_TEST_CASE(date_comments_whitespace_and_missing_seconds) {
    BOOST_TEST(parse_date("  Mon ,\t 2   Oct  2023  08 : 11 : 12   +0000  (UTC) ").value() == t0);
    BOOST_TEST(parse_date("(a (nested) comment) Mon,(x)2 Oct 2023 10:11:12 +0200 (CEST)").value() ==
               t0);
    BOOST_TEST(parse_date("Mon, 2 Oct 2023 08:11 +0000").value() == t0 - 12);
    BOOST_TEST(parse_date("Mon, 2 Oct 2023 08:11:12 +0000 trailing garbage").value() == t0);
}

BOOST_AUTO_TEST_CASE(date_two_and_three_digit_years) {
    BOOST_TEST(parse_date("Mon, 2 Oct 23 08:11:12 +0000").value() == t0);
    BOOST_TEST(parse_date("Sat, 2 Oct 99 08:11:12 +0000").value() == 938851872);
    BOOST_TEST(parse_date("2 Oct 49 08:11:12 +0000").value() == 2516775072);
    BOOST_TEST(parse_date("2 Oct 50 08:11:12 +0000").value() == -607448928);
    BOOST_TEST(parse_date("2 Oct 123 08:11:12 +0000").value() == t0);
}

BOOST_AUTO_TEST_CASE(date_obsolete_zones) {
    BOOST_TEST(parse_date("Mon, 2 Oct 2023 08:11:12 GMT").value() == t0);
    BOOST_TEST(parse_date("Mon, 2 Oct 2023 08:11:12 UT").value() == t0);
    BOOST_TEST(parse_date("Mon, 2 Oct 2023 03:11:12 EST").value() == t0);
    BOOST_TEST(parse_date("Mon, 2 Oct 2023 04:11:12 EDT").value() == t0);
    BOOST_TEST(parse_date("Mon, 2 Oct 2023 02:11:12 CST").value() == t0);
    BOOST_TEST(parse_date("Mon, 2 Oct 2023 01:11:12 pdt").value() == t0);
    BOOST_TEST(parse_date("Mon, 2 Oct 2023 00:11:12 PST").value() == t0);
    // Military letters and unknown names are "-0000" (RFC 5322 4.3).
    BOOST_TEST(parse_date("Mon, 2 Oct 2023 08:11:12 Z").value() == t0);
    BOOST_TEST(parse_date("Mon, 2 Oct 2023 08:11:12 A").value() == t0);
    BOOST_TEST(parse_date("Mon, 2 Oct 2023 08:11:12 CEST").value() == t0);
    BOOST_TEST(parse_date("Mon, 2 Oct 2023 08:11:12").value() == t0);  // no zone at all
}

BOOST_AUTO_TEST_CASE(date_rejects_malformed) {
    const std::string good_rest = " 08:11:12 +0000";
    for (const char* bad : {"", "   ", "garbage", "Mon,", "Mon, 2 Oct 2023", "Mon, 2 Oct 2023 08",
                            "(Mon, 2 Oct 2023 08:11:12 +0000", "\xff\xfe\x80"}) {
        BOOST_TEST(!parse_date(bad).has_value(), "accepted: " << bad);
    }
    for (const char* bad_day :
         {"Xyz, 2 Oct 2023", "Mon, 2 Foo 2023", "31 Feb 2023", "29 Feb 2023", "32 Oct 2023",
          "0 Oct 2023", "123 Oct 2023", "2 Oct 1899", "2 Oct 20231", "2 Oct 2"}) {
        BOOST_TEST(!parse_date(bad_day + good_rest).has_value(), "accepted: " << bad_day);
    }
    for (const char* bad_time : {"24:00:00 +0000", "08:60:00 +0000", "08:11:61 +0000",
                                 "08:11:12 +02", "08:11:12 +0260", "08:11:12 +"}) {
        BOOST_TEST(!parse_date(std::string("2 Oct 2023 ") + bad_time).has_value(),
                   "accepted: " << bad_time);
    }
}

// ---------------------------------------------------------------- parse_received: real MTAs

BOOST_AUTO_TEST_CASE(received_postfix_local_submission) {
    const auto r = parse_received(
        "by mx.mail.test (Postfix, from userid 1000) id 4S0ABC1xyzz4; "
        "Mon,  2 Oct 2023 10:11:12 +0200 (CEST)");
    BOOST_TEST_REQUIRE(r.has_value());
    BOOST_TEST(r->from == "");
    BOOST_TEST(r->by == "mx.mail.test");
    BOOST_TEST(r->by_detail == "(Postfix, from userid 1000)");
    BOOST_TEST(r->with == "");
    BOOST_TEST(r->id == "4S0ABC1xyzz4");
    BOOST_TEST(r->time.value() == t0);
}

BOOST_AUTO_TEST_CASE(received_dovecot_lmtp) {
    const auto r = parse_received(
        "from mx.mail.test ([192.0.2.10]) by dovecot with LMTP id kHvXBgB6GmVMAQAAqRM+Sw "
        "(envelope-from <probe@mail.test>) for <probe@mail.test>; Mon, 02 Oct 2023 10:11:13 "
        "+0200");
    BOOST_TEST_REQUIRE(r.has_value());
    BOOST_TEST(r->from == "mx.mail.test");
    BOOST_TEST(r->from_detail == "([192.0.2.10])");
    BOOST_TEST(r->by == "dovecot");
    BOOST_TEST(r->with == "LMTP");
    BOOST_TEST(r->id == "kHvXBgB6GmVMAQAAqRM+Sw");
    BOOST_TEST(r->for_addr == "probe@mail.test");
    BOOST_TEST(r->time.value() == t0 + 1);
}

BOOST_AUTO_TEST_CASE(received_exim) {
    const auto r = parse_received(
        "from [192.0.2.1] (helo=example.org) by mx.example.com with esmtpsa (TLS1.3) tls "
        "TLS_AES_256_GCM_SHA384 (Exim 4.96) (envelope-from <a@b>) id 1qAbCd-000123-4X for x@y; "
        "Mon, 02 Oct 2023 10:11:12 +0200");
    BOOST_TEST_REQUIRE(r.has_value());
    BOOST_TEST(r->from == "[192.0.2.1]");
    BOOST_TEST(r->from_detail == "(helo=example.org)");
    BOOST_TEST(r->by == "mx.example.com");
    BOOST_TEST(r->with == "esmtpsa");
    BOOST_TEST(r->with_detail ==
               "(TLS1.3) tls TLS_AES_256_GCM_SHA384 (Exim 4.96) (envelope-from <a@b>)");
    BOOST_TEST(r->id == "1qAbCd-000123-4X");
    BOOST_TEST(r->for_addr == "x@y");
    BOOST_TEST(r->time.value() == t0);
}

BOOST_AUTO_TEST_CASE(received_exchange_office365) {
    const auto r = parse_received(
        "from AM6PR04MB1234.eurprd04.prod.outlook.com (2603:10a6:20b:2b::12) by "
        "AM6PR04MB5678.eurprd04.prod.outlook.com (2603:10a6:20b:f0::18) with Microsoft SMTP "
        "Server (version=TLS1_2, cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id "
        "15.20.6838.33; Mon, 2 Oct 2023 08:11:12 +0000");
    BOOST_TEST_REQUIRE(r.has_value());
    BOOST_TEST(r->from == "AM6PR04MB1234.eurprd04.prod.outlook.com");
    BOOST_TEST(r->from_detail == "(2603:10a6:20b:2b::12)");
    BOOST_TEST(r->by == "AM6PR04MB5678.eurprd04.prod.outlook.com");
    BOOST_TEST(r->by_detail == "(2603:10a6:20b:f0::18)");
    BOOST_TEST(r->with == "Microsoft");
    BOOST_TEST(r->with_detail ==
               "SMTP Server (version=TLS1_2, cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384)");
    BOOST_TEST(r->id == "15.20.6838.33");
    BOOST_TEST(r->time.value() == t0);
}

BOOST_AUTO_TEST_CASE(received_gmail) {
    const auto r = parse_received(
        "by 2002:a05:6358:5e05:b0:13c:f2ab:1234 with SMTP id d5csp1234567rwb; "
        "Mon, 2 Oct 2023 01:11:12 -0700 (PDT)");
    BOOST_TEST_REQUIRE(r.has_value());
    BOOST_TEST(r->from == "");
    BOOST_TEST(r->by == "2002:a05:6358:5e05:b0:13c:f2ab:1234");
    BOOST_TEST(r->with == "SMTP");
    BOOST_TEST(r->id == "d5csp1234567rwb");
    BOOST_TEST(r->time.value() == t0);
}

BOOST_AUTO_TEST_CASE(received_sendmail) {
    const auto r = parse_received(
        "from host.example.org (host.example.org [192.0.2.7]) by mail.example.net "
        "(8.15.2/8.15.2) with ESMTP id 392ABCDE012345 for <u@example.net>; "
        "Mon, 2 Oct 2023 10:11:13 +0200");
    BOOST_TEST_REQUIRE(r.has_value());
    BOOST_TEST(r->from == "host.example.org");
    BOOST_TEST(r->from_detail == "(host.example.org [192.0.2.7])");
    BOOST_TEST(r->by == "mail.example.net");
    BOOST_TEST(r->by_detail == "(8.15.2/8.15.2)");
    BOOST_TEST(r->with == "ESMTP");
    BOOST_TEST(r->id == "392ABCDE012345");
    BOOST_TEST(r->for_addr == "u@example.net");
    BOOST_TEST(r->time.value() == t0 + 1);
}

// ---------------------------------------------------------------- parse_received: odd cases

BOOST_AUTO_TEST_CASE(received_ipv6_literals) {
    const auto r = parse_received(
        "from [IPv6:2001:db8::1] (client.example.org [IPv6:2001:db8::1]) by "
        "[IPv6:2001:db8::25] with ESMTPS id <abc@mx>; 2 Oct 2023 08:11:12 +0000");
    BOOST_TEST_REQUIRE(r.has_value());
    BOOST_TEST(r->from == "[IPv6:2001:db8::1]");
    BOOST_TEST(r->from_detail == "(client.example.org [IPv6:2001:db8::1])");
    BOOST_TEST(r->by == "[IPv6:2001:db8::25]");
    BOOST_TEST(r->id == "abc@mx");
    BOOST_TEST(r->time.value() == t0);
}

BOOST_AUTO_TEST_CASE(received_missing_by_and_via) {
    const auto r = parse_received(
        "from a.example (a.example [192.0.2.1]) with SMTP; 2 Oct 23 "
        "08:11:12 GMT");
    BOOST_TEST_REQUIRE(r.has_value());
    BOOST_TEST(r->from == "a.example");
    BOOST_TEST(r->by == "");
    BOOST_TEST(r->with == "SMTP");
    BOOST_TEST(r->time.value() == t0);
    const auto v = parse_received("FROM a By b VIA uucp WITH uucp; 2 Oct 2023 08:11:12 +0000");
    BOOST_TEST_REQUIRE(v.has_value());
    BOOST_TEST(v->from == "a");
    BOOST_TEST(v->by == "b");
    BOOST_TEST(v->via == "uucp");
    BOOST_TEST(v->with == "uucp");
}

BOOST_AUTO_TEST_CASE(received_nested_comments_with_semicolons) {
    const auto r = parse_received(
        "from a.example (a.example [192.0.2.1] (may be forged; really (nested; deep))) "
        "by b.example (x;y) with SMTP id 42 (a;b); Mon, 2 Oct 2023 08:11:12 +0000 (x; y)");
    BOOST_TEST_REQUIRE(r.has_value());
    BOOST_TEST(r->from == "a.example");
    BOOST_TEST(r->from_detail == "(a.example [192.0.2.1] (may be forged; really (nested; deep)))");
    BOOST_TEST(r->by == "b.example");
    BOOST_TEST(r->with == "SMTP");
    BOOST_TEST(r->id == "42");
    BOOST_TEST(r->time.value() == t0);
    // A quoted-pair escapes a parenthesis inside a comment.
    const auto q = parse_received("from a (x \\) ; y) by b; 2 Oct 2023 08:11:12 +0000");
    BOOST_TEST_REQUIRE(q.has_value());
    BOOST_TEST(q->by == "b");
    BOOST_TEST(q->time.value() == t0);
}

BOOST_AUTO_TEST_CASE(received_tabs_8bit_trailing_garbage) {
    const auto r = parse_received(
        "from\th\xc3\xa9llo.example\t(\xff\xfe)\tby\tmx.example\tid\t1 !!! ???\tfor\t<a@b>"
        ";\tMon, 2 Oct 2023 08:11:12 +0000 \x01garbage;x");
    BOOST_TEST_REQUIRE(r.has_value());
    BOOST_TEST(r->from == "h\xc3\xa9llo.example");
    BOOST_TEST(r->from_detail == "(\xff\xfe)");
    BOOST_TEST(r->by == "mx.example");
    BOOST_TEST(r->id == "1");
    BOOST_TEST(r->for_addr == "a@b");
    // The last ';' is in the garbage: the one before it still yields the date.
    BOOST_TEST(r->time.value() == t0);
    const auto g = parse_received("from a by b; Mon, 2 Oct 2023 08:11:12 +0000 junk (x)");
    BOOST_TEST_REQUIRE(g.has_value());
    BOOST_TEST(g->time.value() == t0);
}

BOOST_AUTO_TEST_CASE(received_without_date_or_clauses) {
    const auto no_date = parse_received("from a by b with SMTP id 7");
    BOOST_TEST_REQUIRE(no_date.has_value());
    BOOST_TEST(no_date->by == "b");
    BOOST_TEST(!no_date->time.has_value());
    const auto bad_date = parse_received("from a by b; yesterday");
    BOOST_TEST_REQUIRE(bad_date.has_value());
    BOOST_TEST(!bad_date->time.has_value());
    // qmail style: only a comment and a date.
    const auto qmail =
        parse_received("(qmail 12345 invoked by uid 1000); 2 Oct 2023 08:11:12 -0000");
    BOOST_TEST_REQUIRE(qmail.has_value());
    BOOST_TEST(qmail->by == "");
    BOOST_TEST(qmail->time.value() == t0);
    // An unclosed comment swallows the rest, separators included.
    const auto open = parse_received("from a (unclosed ; by b; 2 Oct 2023 08:11:12 +0000");
    BOOST_TEST_REQUIRE(open.has_value());
    BOOST_TEST(open->from == "a");
    BOOST_TEST(open->by == "");
    BOOST_TEST(!open->time.has_value());
}

BOOST_AUTO_TEST_CASE(received_garbage_is_nullopt) {
    for (const char* bad : {"", "   ", "\t\r\n", "hello world", ";;;;", "((((", "))))", ";",
                            "\xff\xfe\xfd", "; not a date", "(comment only)"}) {
        BOOST_TEST(!parse_received(bad).has_value(), "accepted: " << bad);
    }
    BOOST_TEST(!parse_received("from " + std::string(max_field_bytes, 'a')).has_value());
}

// ---------------------------------------------------------------- received_path

namespace {
// Three hops newest first, as a mailbox shows them: local submission, relay, LMTP delivery.
const std::string three_hops_crlf =
    "Return-Path: <probe@mail.test>\r\n"
    "Delivered-To: probe@mail.test\r\n"
    "Received: from mx.mail.test ([192.0.2.10])\r\n"
    "\tby dovecot with LMTP\r\n"
    "\tid kHvXBgB6GmVMAQAAqRM+Sw\r\n"
    "\t(envelope-from <probe@mail.test>)\r\n"
    "\tfor <probe@mail.test>; Mon, 02 Oct 2023 10:11:15 +0200\r\n"
    "Received: from submit.mail.test (submit.mail.test [192.0.2.9])\r\n"
    "\tby mx.mail.test (Postfix) with ESMTPS id 4S0ABC1xyzz4\r\n"
    "\tfor <probe@mail.test>; Mon,  2 Oct 2023 08:11:13 +0000 (UTC)\r\n"
    "Subject: probe\r\n"
    "Received: by submit.mail.test (Postfix, from userid 1000)\r\n"
    "\tid 4S0AAA0abc; Mon,  2 Oct 2023 04:11:12 -0400 (EDT)\r\n"
    "\r\n"
    "Received: from body by body; Mon, 2 Oct 2023 08:11:12 +0000\r\n";
}  // namespace

BOOST_AUTO_TEST_CASE(path_three_hops_oldest_first) {
    const auto hops = received_path(three_hops_crlf);
    BOOST_TEST_REQUIRE(hops.size() == 3U);
    BOOST_TEST(hops[0].received.by == "submit.mail.test");
    BOOST_TEST(hops[1].received.by == "mx.mail.test");
    BOOST_TEST(hops[1].received.from == "submit.mail.test");
    BOOST_TEST(hops[2].received.by == "dovecot");
    BOOST_TEST(hops[2].received.with == "LMTP");
    BOOST_TEST(hops[2].received.for_addr == "probe@mail.test");
    BOOST_TEST(hops[0].delay_s == 0.0);
    BOOST_TEST(hops[1].delay_s == 1.0);
    BOOST_TEST(hops[2].delay_s == 2.0);
    for (const Hop& h : hops) {
        BOOST_TEST(h.time_known);
        BOOST_TEST(!h.skewed);
    }
    BOOST_TEST(describe_path(hops) ==
               "submit.mail.test -> mx.mail.test (1.0 s) -> dovecot (2.0 s)");
}

BOOST_AUTO_TEST_CASE(path_lf_folding_gives_the_same_result) {
    std::string lf;
    for (char c : three_hops_crlf) {
        if (c != '\r') lf += c;
    }
    const auto a = received_path(three_hops_crlf);
    const auto b = received_path(lf);
    BOOST_TEST_REQUIRE(a.size() == b.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
        BOOST_TEST(a[i].received.from_detail == b[i].received.from_detail);
        BOOST_TEST(a[i].received.by == b[i].received.by);
        BOOST_TEST(a[i].delay_s == b[i].delay_s);
    }
}

BOOST_AUTO_TEST_CASE(path_clock_skew_and_missing_time) {
    const std::string block =
        "Received: from c by d; Mon, 2 Oct 2023 08:11:20 +0000\n"
        "Received: from b by c with SMTP\n"  // no date at all
        "Received: from a by b; Mon, 2 Oct 2023 08:11:10 +0000\n"
        "Received: by a; Mon, 2 Oct 2023 08:11:12 +0000\n";
    const auto hops = received_path(block);
    BOOST_TEST_REQUIRE(hops.size() == 4U);
    BOOST_TEST(hops[1].skewed);  // 08:11:10 after 08:11:12
    BOOST_TEST(hops[1].delay_s == 0.0);
    BOOST_TEST(!hops[2].time_known);
    BOOST_TEST(hops[2].delay_s == 0.0);
    BOOST_TEST(hops[3].delay_s == 10.0);  // measured from hop 1, the last with a time
    BOOST_TEST(!hops[3].skewed);
    BOOST_TEST(describe_path(hops) == "a -> b (0.0 s, clock skew) -> c (? s) -> d (10.0 s)");
}

BOOST_AUTO_TEST_CASE(path_empty_and_garbage) {
    BOOST_TEST(received_path("").empty());
    BOOST_TEST(received_path("Subject: x\r\n\r\nbody").empty());
    BOOST_TEST(received_path("Received: hello world\nReceived: ;;;\n").empty());
    constexpr char nul_junk[] = "\x00\xff garbage\n\n";
    BOOST_TEST(received_path(std::string_view(nul_junk, sizeof nul_junk - 1)).empty());
    BOOST_TEST(describe_path({}) == "");
    const auto odd = received_path("Received: by |evil\x07host; 2 Oct 2023 08:11:12 +0000\n");
    BOOST_TEST_REQUIRE(odd.size() == 1U);
    BOOST_TEST(describe_path(odd) == "?evil?host");
}

BOOST_AUTO_TEST_CASE(path_bounded_on_hostile_input) {
    std::string block = "X-Junk: " + std::string(1 << 20, 'j') + "\r\n";
    block += "Received: from x " + std::string(1 << 20, '(') + "\r\n";  // 1 MB, ignored
    for (int i = 0; i < 10000; ++i) {
        block += "Received: from a" + std::to_string(i) + " (x (y; z)) by b" + std::to_string(i) +
                 " with ESMTP id " + std::to_string(i) + "; Mon, 2 Oct 2023 08:11:12 +0000\r\n";
    }
    block += std::string(1 << 20, 'z');  // 1 MB line without a break or a colon
    const auto start = std::chrono::steady_clock::now();
    const auto hops = received_path(block);
    const auto all = header_values(block, "Received");
    const auto unclosed = parse_received(std::string(max_field_bytes, '('));
    const auto deep_date = parse_date(std::string(max_field_bytes / 2, '(') + "x");
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    BOOST_TEST(elapsed < 1.0);
    BOOST_TEST_REQUIRE(hops.size() == max_received_fields);
    BOOST_TEST(hops.back().received.by == "b0");  // the newest fields are the ones kept
    BOOST_TEST(hops.front().received.by == "b99");
    BOOST_TEST(all.size() == 10000U);
    BOOST_TEST(!unclosed.has_value());
    BOOST_TEST(!deep_date.has_value());
}
