#define BOOST_TEST_MODULE dsn
#include <boost/test/unit_test.hpp>

#include <string>

#include "probe/probe.hpp"
#include "verdict/dsn.hpp"
#include "verdict/mime.hpp"

using namespace mailprobe;
using namespace mailprobe::verdict;

namespace {

const probe::Identity ours{"monitor:probe@mail.test", std::string(32, 'k')};
const probe::Identity other_check{"other:probe@mail.test", std::string(32, 'k')};

probe::ProbeMessage message_of(const probe::Identity& identity, std::int64_t ms) {
    probe::MessageFields f;
    f.from = "probe@mail.test";
    f.to = {"nobody@mail.test"};
    f.hostname = "vm";
    f.via = "SMTP relay.test:587";
    return probe::make_probe_message(identity, ms, f);
}

const probe::ProbeMessage our_message = message_of(ours, 1795800000000);
const probe::Probe& our_probe = our_message.probe;

// Our probe as returned in a DSN, with its X-Mailprobe value replaced by `x_mailprobe`.
std::string returned_message(const std::string& x_mailprobe) {
    std::string text = our_message.text;
    const std::string value = our_probe.header_value();
    const std::size_t at = text.find(value);
    if (at != std::string::npos) text.replace(at, value.size(), x_mailprobe);
    return text;
}

// Postfix's bounce as the relay sends it when the final MTA refuses after the relay accepted.
std::string postfix_dsn(const std::string& x_mailprobe, const std::string& action = "failed",
                        const std::string& status = "5.1.1") {
    return "Return-Path: <>\n"
           "Delivered-To: probe@mail.test\n"
           "Received: by relay.test (Postfix) id 4F1C2A72; Fri, 27 Nov 2026 17:32:06 +0000 (UTC)\n"
           "From: MAILER-DAEMON@relay.test (Mail Delivery System)\n"
           "Subject: Undelivered Mail Returned to Sender\n"
           "To: probe@mail.test\n"
           "Auto-Submitted: auto-replied\n"
           "MIME-Version: 1.0\n"
           "Content-Type: multipart/report; report-type=delivery-status;\n"
           "\tboundary=\"4F1C2A7203D.1764264726/relay.test\"\n"
           "\n"
           "This is a MIME-encapsulated message.\n"
           "\n"
           "--4F1C2A7203D.1764264726/relay.test\n"
           "Content-Description: Notification\n"
           "Content-Type: text/plain; charset=us-ascii\n"
           "\n"
           "This is the mail system at host relay.test.\n"
           "<nobody@mail.test>: host mx.mail.test[127.0.0.1] said: 550 5.1.1\n"
           "    <nobody@mail.test>: Recipient address rejected (in reply to RCPT TO command)\n"
           "\n"
           "--4F1C2A7203D.1764264726/relay.test\n"
           "Content-Description: Delivery report\n"
           "Content-Type: message/delivery-status\n"
           "\n"
           "Reporting-MTA: dns; relay.test\n"
           "X-Postfix-Queue-ID: 4F1C2A7203D\n"
           "Arrival-Date: Fri, 27 Nov 2026 17:32:05 +0000 (UTC)\n"
           "\n"
           "Final-Recipient: rfc822; nobody@mail.test\n"
           "Original-Recipient: rfc822;nobody@mail.test\n"
           "Action: " +
           action +
           "\n"
           "Status: " +
           status +
           "\n"
           "Remote-MTA: dns; mx.mail.test\n"
           "Diagnostic-Code: smtp; 550 5.1.1 <nobody@mail.test>: Recipient address\n"
           "    rejected: User unknown in local recipient table\n"
           "\n"
           "--4F1C2A7203D.1764264726/relay.test\n"
           "Content-Description: Undelivered Message\n"
           "Content-Type: message/rfc822\n"
           "\n" +
           returned_message(x_mailprobe) + "\n--4F1C2A7203D.1764264726/relay.test--\n";
}

// Office 365: HTML notification, delivery-status without spaces after ';', headers only.
std::string office365_dsn(const std::string& x_mailprobe) {
    return "From: postmaster@contoso.onmicrosoft.com\r\n"
           "To: probe@mail.test\r\n"
           "Subject: Undeliverable: mailprobe monitor\r\n"
           "X-MS-Exchange-Message-Is-Ndr: \r\n"
           "Content-Type: multipart/report; report-type=delivery-status;\r\n"
           "\tboundary=\"_000_9c1d_\"\r\n"
           "MIME-Version: 1.0\r\n"
           "\r\n"
           "--_000_9c1d_\r\n"
           "Content-Type: multipart/alternative; boundary=\"_002_9c1d_\"\r\n"
           "\r\n"
           "--_002_9c1d_\r\n"
           "Content-Type: text/plain; charset=\"us-ascii\"\r\n"
           "\r\n"
           "Your message to nobody@contoso.com couldn't be delivered.\r\n"
           "--_002_9c1d_\r\n"
           "Content-Type: text/html; charset=\"us-ascii\"\r\n"
           "\r\n"
           "<html><body>Delivery has failed</body></html>\r\n"
           "--_002_9c1d_--\r\n"
           "\r\n"
           "--_000_9c1d_\r\n"
           "Content-Type: message/delivery-status\r\n"
           "\r\n"
           "Reporting-MTA: dns;AM0PR02MB1234.eurprd02.prod.outlook.com\r\n"
           "Received-From-MTA: dns;mail.mail.test\r\n"
           "Arrival-Date: Tue, 30 Jan 2024 09:00:00 +0000\r\n"
           "\r\n"
           "Final-Recipient: rfc822;nobody@contoso.com\r\n"
           "Action: failed\r\n"
           "Status: 5.1.10\r\n"
           "Diagnostic-Code: smtp;550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not "
           "found by SMTP address lookup\r\n"
           "\r\n"
           "--_000_9c1d_\r\n"
           "Content-Type: text/rfc822-headers\r\n"
           "\r\n"
           "From: probe@mail.test\r\n"
           "To: nobody@contoso.com\r\n"
           "X-Mailprobe: " +
           x_mailprobe +
           "\r\n"
           "Subject: mailprobe monitor\r\n"
           "\r\n"
           "--_000_9c1d_--\r\n";
}

// Gmail's DSN for a remote refusal (DMARC) with several recipients, one delayed.
std::string gmail_dsn(const std::string& x_mailprobe) {
    return "From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>\n"
           "To: probe+" +
           our_probe.id +
           "@gmail.com\n"
           "Subject: Delivery Status Notification (Failure)\n"
           "Content-Type: multipart/report; boundary=\"000000000000a1b2c3\"; "
           "report-type=delivery-status\n"
           "\n"
           "--000000000000a1b2c3\n"
           "Content-Type: text/plain; charset=\"UTF-8\"\n"
           "\n"
           "** Message blocked **\n"
           "--000000000000a1b2c3\n"
           "Content-Type: message/delivery-status\n"
           "\n"
           "Reporting-MTA: dns; googlemail.com\n"
           "Arrival-Date: Tue, 30 Jan 2024 01:02:03 -0800 (PST)\n"
           "\n"
           "Final-Recipient: rfc822; slow@example.net\n"
           "Action: delayed\n"
           "Status: 4.4.1\n"
           "\n"
           "Final-Recipient: rfc822; alice@example.org\n"
           "Action: failed\n"
           "Status: 5.7.26\n"
           "Remote-MTA: dns; mx2.example.org. (192.0.2.7, the server for the domain "
           "example.org.)\n"
           "Diagnostic-Code: smtp; 550-5.7.26 Unauthenticated email from mail.test is not "
           "accepted due to domain's DMARC policy\n"
           "\n"
           "--000000000000a1b2c3\n"
           "Content-Type: message/rfc822\n"
           "\n" +
           returned_message(x_mailprobe) + "--000000000000a1b2c3--\n";
}

// Exim's plain-text bounce (no multipart/report) and its delay warning.
std::string exim_bounce(const std::string& x_mailprobe, bool delayed = false) {
    const std::string head =
        delayed ? "Subject: Warning: message 1rAbCd-000123-4X delayed 24 hours\n"
                  "\n"
                  "This message was created automatically by mail delivery software.\n"
                  "A message that you sent has not yet been delivered to one or more of its\n"
                  "recipients after more than 24 hours on the queue on mx.example.net.\n"
                  "  nobody@example.net\n"
                  "    host mx2.example.net [192.0.2.9]: 451 4.3.0 Temporary local problem\n"
                  "------ This is a copy of the message's headers. ------\n"
                : "Subject: Mail delivery failed: returning message to sender\n"
                  "\n"
                  "This message was created automatically by mail delivery software.\n"
                  "\n"
                  "A message that you sent could not be delivered to one or more of its\n"
                  "recipients. This is a permanent error. The following address(es) failed:\n"
                  "\n"
                  "  nobody@example.net\n"
                  "    host mx2.example.net [192.0.2.9]\n"
                  "    SMTP error from remote mail server after RCPT TO:<nobody@example.net>:\n"
                  "    550 5.1.1 <nobody@example.net>: Recipient address rejected\n"
                  "\n"
                  "------ This is a copy of the message, including all the headers. ------\n"
                  "\n";
    return "Return-path: <>\n"
           "Received: from Debian-exim by mx.example.net with local (Exim 4.96)\n"
           "\tid 1rAbCe-000124-5Y; Tue, 30 Jan 2024 10:00:01 +0100\n"
           "X-Failed-Recipients: nobody@example.net\n"
           "From: Mail Delivery System <Mailer-Daemon@mx.example.net>\n"
           "To: probe@mail.test\n" +
           head + returned_message(x_mailprobe);
}

}  // namespace

BOOST_AUTO_TEST_CASE(postfix_dsn_refers_to_our_probe) {
    const auto d = parse_dsn(postfix_dsn(our_probe.header_value()));
    BOOST_TEST_REQUIRE(d.has_value());
    BOOST_TEST(d->standard);
    BOOST_TEST(action_name(d->action) == std::string("failed"));
    BOOST_TEST(d->reporting_mta == "relay.test");
    BOOST_TEST(d->status == "5.1.1");
    BOOST_TEST(d->diagnostic ==
               "550 5.1.1 <nobody@mail.test>: Recipient address rejected: User unknown in local "
               "recipient table");
    BOOST_TEST(d->final_recipient == "nobody@mail.test");
    BOOST_TEST(describe(*d) ==
               "probe bounced by relay.test: 5.1.1 550 5.1.1 <nobody@mail.test>: Recipient "
               "address rejected: User unknown in local recipient table");
    const auto ref = refers_to(*d, ours, {our_probe.id});
    BOOST_TEST((ref.match == DsnMatch::ours));
    BOOST_TEST(ref.probe_id == our_probe.id);
}

BOOST_AUTO_TEST_CASE(postfix_delay_warning) {
    const auto d = parse_dsn(postfix_dsn(our_probe.header_value(), "delayed", "4.4.1"));
    BOOST_TEST_REQUIRE(d.has_value());
    BOOST_TEST(action_name(d->action) == std::string("delayed"));
    BOOST_TEST(describe(*d).rfind("delayed at relay.test: 4.4.1 550", 0) == 0U);
}

BOOST_AUTO_TEST_CASE(office365_headers_only_and_no_space_after_type) {
    const auto d = parse_dsn(office365_dsn(our_probe.header_value()));
    BOOST_TEST_REQUIRE(d.has_value());
    BOOST_TEST(d->reporting_mta == "AM0PR02MB1234.eurprd02.prod.outlook.com");
    BOOST_TEST(d->status == "5.1.10");
    BOOST_TEST(d->diagnostic.rfind("550 5.1.10 RESOLVER.ADR.RecipientNotFound;", 0) == 0U);
    // Headers only: the tag covers the body, so this DSN is reported but never deleted.
    BOOST_TEST(!d->returned_body);
    BOOST_TEST((refers_to(*d, ours, {our_probe.id}).match == DsnMatch::ours_unverified));
}

BOOST_AUTO_TEST_CASE(gmail_reports_the_failed_recipient_of_several) {
    const auto d = parse_dsn(gmail_dsn(our_probe.header_value()));
    BOOST_TEST_REQUIRE(d.has_value());
    BOOST_TEST(action_name(d->action) == std::string("failed"));
    BOOST_TEST(d->status == "5.7.26");
    BOOST_TEST(d->reporting_mta == "googlemail.com");
    BOOST_TEST(d->final_recipient == "alice@example.org");
    BOOST_TEST(describe(*d).find("550-5.7.26 Unauthenticated email") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(exim_plain_text_bounce_and_delay) {
    const auto d = parse_dsn(exim_bounce(our_probe.header_value()));
    BOOST_TEST_REQUIRE(d.has_value());
    BOOST_TEST(!d->standard);
    BOOST_TEST(action_name(d->action) == std::string("failed"));
    BOOST_TEST(d->reporting_mta == "mx.example.net");
    BOOST_TEST(d->status == "5.1.1");
    BOOST_TEST(d->diagnostic == "550 5.1.1 <nobody@example.net>: Recipient address rejected");
    BOOST_TEST(d->final_recipient == "nobody@example.net");
    BOOST_TEST((refers_to(*d, ours, {our_probe.id}).match == DsnMatch::ours));

    const auto w = parse_dsn(exim_bounce(our_probe.header_value(), true));
    BOOST_TEST_REQUIRE(w.has_value());
    BOOST_TEST(action_name(w->action) == std::string("delayed"));
    BOOST_TEST(w->status == "4.3.0");
    BOOST_TEST((refers_to(*w, ours, {our_probe.id}).match == DsnMatch::ours));
}

BOOST_AUTO_TEST_CASE(never_ours_unless_the_tag_verifies_for_an_awaited_probe) {
    const auto forged_tag = [] {
        probe::Probe p = our_probe;
        p.tag[0] = p.tag[0] == '0' ? '1' : '0';
        return p.header_value();
    }();
    const probe::Probe someone_else = message_of(other_check, 1795800000000).probe;
    const probe::Probe older = message_of(ours, 1795700000000).probe;
    struct Case {
        std::string what;
        std::string message;
        std::vector<std::string> awaited;
        DsnMatch expected;
    };
    const std::vector<Case> cases{
        {"forged tag quoting our id", postfix_dsn(forged_tag), {our_probe.id}, DsnMatch::forged},
        {"another check's probe",
         postfix_dsn(someone_else.header_value()),
         {our_probe.id},
         DsnMatch::not_ours},
        {"our older probe, not awaited",
         postfix_dsn(older.header_value()),
         {our_probe.id},
         DsnMatch::not_ours},
        {"someone else's message",
         postfix_dsn("v=1; n=0; id=1; t=2; tag=3"),
         {our_probe.id},
         DsnMatch::not_ours},
        {"forged Exim bounce", exim_bounce(forged_tag), {our_probe.id}, DsnMatch::forged},
        {"VERP only, tag missing", gmail_dsn("none"), {our_probe.id}, DsnMatch::ours_unverified},
        {"VERP of another id", gmail_dsn("none"), {older.id}, DsnMatch::not_ours},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.what) {
            const auto d = parse_dsn(c.message);
            BOOST_TEST_REQUIRE(d.has_value());
            BOOST_TEST((refers_to(*d, ours, c.awaited).match == c.expected));
        }
    }
}

BOOST_AUTO_TEST_CASE(verp_address_found_where_the_delivering_side_kept_it) {
    // Dovecot writes Delivered-To without the "+detail"; the bounce's To keeps it. A return
    // path that is itself plus-addressed gets the id after its last '+'.
    const std::string id = our_probe.id;
    const std::string rest = gmail_dsn("none").substr(gmail_dsn("none").find("\nSubject:"));
    struct Case {
        const char* what;
        std::string header;
        DsnMatch expected;
    };
    const std::vector<Case> cases = {
        {"stripped Delivered-To, VERP To",
         "Delivered-To: probe@gmail.com\nTo: probe+" + id + "@gmail.com",
         DsnMatch::ours_unverified},
        {"plus-addressed return path", "To: <probe+mon+" + id + "@gmail.com>",
         DsnMatch::ours_unverified},
        {"no VERP anywhere", "Delivered-To: probe@gmail.com\nTo: probe@gmail.com",
         DsnMatch::not_ours},
        {"id in the domain, not the local part", "To: probe@" + id + ".example.org",
         DsnMatch::not_ours},
        {"id too short", "To: probe+" + id.substr(1) + "@gmail.com", DsnMatch::not_ours},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.what) {
            const auto d = parse_dsn(
                "From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>\n" + c.header + rest);
            BOOST_TEST_REQUIRE(d.has_value());
            BOOST_TEST((refers_to(*d, ours, {id}).match == c.expected));
        }
    }
}

BOOST_AUTO_TEST_CASE(not_a_dsn) {
    // The probe itself, ordinary mail, and mail that only quotes a bounce in its text.
    BOOST_TEST(!parse_dsn(returned_message(our_probe.header_value())).has_value());
    BOOST_TEST(!parse_dsn("From: alice@example.org\nSubject: hi\n\nhello\n").has_value());
    BOOST_TEST(!parse_dsn("").has_value());
    BOOST_TEST(!parse_dsn("From: bob@example.org\nSubject: fwd\n\nX-Mailprobe: " +
                          our_probe.header_value() + "\n")
                    .has_value());
}

BOOST_AUTO_TEST_CASE(describe_is_bounded_and_status_line_safe) {
    Dsn d;
    d.action = DsnAction::failed;
    d.reporting_mta = "mx|evil\r\nX: y";
    d.diagnostic = std::string(5000, 'x');
    const std::string s = describe(d);
    BOOST_TEST(s.find('|') == std::string::npos);
    BOOST_TEST(s.find('\n') == std::string::npos);
    BOOST_TEST(s.size() < 500U);
    BOOST_TEST(describe(Dsn{}) == "DSN (unknown) from an unnamed MTA: no status given");
}

BOOST_AUTO_TEST_CASE(mime_corners) {
    BOOST_TEST(content_type("Subject: x\n").type == "text/plain");
    const auto ct = content_type(
        "Content-Type: Multipart/Report; Report-Type=\"delivery-status\";"
        " boundary=\"a b\"\n");
    BOOST_TEST(ct.type == "multipart/report");
    BOOST_TEST(ct.report_type == "delivery-status");
    BOOST_TEST(ct.boundary == "a b");
    const auto parts = multipart_parts("pre\n--b\nX: 1\n\none\n--b\n\ntwo\n--b--\nepilogue\n", "b");
    BOOST_TEST_REQUIRE(parts.size() == 2U);
    BOOST_TEST(parts[0].header == "X: 1\n");
    BOOST_TEST(parts[0].body == "one");
    BOOST_TEST(parts[1].body == "two");
    BOOST_TEST(multipart_parts("--b\nunterminated", "b").size() == 1U);
    std::string many;
    for (int i = 0; i < 100; ++i) many += "--b\n\nx\n";
    BOOST_TEST(multipart_parts(many, "b").size() == max_mime_parts);
}
