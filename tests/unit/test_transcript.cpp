#define BOOST_TEST_MODULE transcript
#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <cctype>
#include <optional>
#include <string>
#include <vector>

#include "curl/transcript.hpp"

using namespace mailprobe;
using namespace mailprobe::curl;

namespace {

// True when no remembered line, nor the last command, nor the waiting stage contains
// the text (compared case-insensitively, so an upper-cased copy also counts).
bool hidden(const Transcript& t, const std::string& text) {
    auto lower = [](std::string s) {
        for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        return s;
    };
    std::string needle = lower(text);
    for (const auto& line : t.lines()) {
        if (lower(line).find(needle) != std::string::npos) return false;
    }
    return lower(t.last_command()).find(needle) == std::string::npos &&
           lower(t.waiting_for()).find(needle) == std::string::npos;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(redaction)

BOOST_AUTO_TEST_CASE(smtp_auth_plain_initial_response) {
    Transcript t(Protocol::smtp);
    t.on_server("220 mx.example.org ESMTP");
    t.on_client("EHLO monitor");
    t.on_server("250 AUTH PLAIN LOGIN");
    t.on_client("AUTH PLAIN AHVzZXIAcGFzcw==");
    BOOST_TEST(t.lines().back() == "C: AUTH PLAIN [redacted]");
    BOOST_TEST(t.last_command() == "AUTH PLAIN [redacted]");
    BOOST_TEST(hidden(t, "AHVzZXIAcGFzcw=="));
    t.on_server("235 2.7.0 Authentication successful");
    t.on_client("MAIL FROM:<probe@example.org>");
    BOOST_TEST(t.lines().back() == "C: MAIL FROM:<probe@example.org>");
}

BOOST_AUTO_TEST_CASE(smtp_auth_plain_after_challenge) {
    Transcript t(Protocol::smtp);
    t.on_server("220 mx ESMTP");
    t.on_client("AUTH PLAIN");
    BOOST_TEST(t.lines().back() == "C: AUTH PLAIN [redacted]");
    t.on_server("334 ");
    t.on_client("AHVzZXIAcGFzcw==");
    BOOST_TEST(t.lines().back() == "C: [redacted]");
    BOOST_TEST(hidden(t, "AHVzZXIAcGFzcw=="));
    t.on_server("235 ok");
    t.on_client("QUIT");
    BOOST_TEST(t.lines().back() == "C: QUIT");
}

BOOST_AUTO_TEST_CASE(smtp_auth_login_exchange) {
    Transcript t(Protocol::smtp);
    t.on_server("220 mx ESMTP");
    t.on_client("AUTH LOGIN");
    BOOST_TEST(t.lines().back() == "C: AUTH LOGIN [redacted]");
    t.on_server("334 VXNlcm5hbWU6");
    t.on_client("dXNlcg==");
    BOOST_TEST(t.lines().back() == "C: [redacted]");
    t.on_server("334 UGFzc3dvcmQ6");
    t.on_client("cGFzc3dvcmQxMjM=");
    BOOST_TEST(t.lines().back() == "C: [redacted]");
    BOOST_TEST(hidden(t, "dXNlcg=="));
    BOOST_TEST(hidden(t, "cGFzc3dvcmQxMjM="));
    t.on_server("235 2.7.0 Authentication successful");
    t.on_client("MAIL FROM:<a@b>");
    BOOST_TEST(t.lines().back() == "C: MAIL FROM:<a@b>");
    t.on_server("250 ok");
    t.on_client("RCPT TO:<c@d>");
    BOOST_TEST(t.lines().back() == "C: RCPT TO:<c@d>");
}

BOOST_AUTO_TEST_CASE(failed_auth_ends_redaction) {
    Transcript t(Protocol::smtp);
    t.on_server("220 mx");
    t.on_client("AUTH LOGIN");
    t.on_server("334 VXNlcm5hbWU6");
    t.on_client("dXNlcg==");
    t.on_server("535 5.7.8 Authentication credentials invalid");
    t.on_client("QUIT");
    BOOST_TEST(t.lines().back() == "C: QUIT");
    BOOST_TEST(t.last_reply() == "535 5.7.8 Authentication credentials invalid");
}

BOOST_AUTO_TEST_CASE(imap_authenticate_keeps_tag) {
    Transcript t(Protocol::imap);
    t.on_server("* OK IMAP ready");
    t.on_client("A002 AUTHENTICATE PLAIN xyz");
    BOOST_TEST(t.lines().back() == "C: A002 AUTHENTICATE PLAIN [redacted]");
    BOOST_TEST(hidden(t, "xyz"));
    t.on_server("A002 OK done");
    t.on_client("A003 SELECT INBOX");
    BOOST_TEST(t.lines().back() == "C: A003 SELECT INBOX");
}

BOOST_AUTO_TEST_CASE(imap_authenticate_continuation) {
    Transcript t(Protocol::imap);
    t.on_server("* OK IMAP ready");
    t.on_client("A002 AUTHENTICATE PLAIN");
    t.on_server("+");
    t.on_client("AHVzZXIAcGFzcw==");
    BOOST_TEST(t.lines().back() == "C: [redacted]");
    BOOST_TEST(hidden(t, "AHVzZXIAcGFzcw=="));
    t.on_server("A002 OK Logged in");
    t.on_client("A003 LIST \"\" *");
    BOOST_TEST(t.lines().back() == "C: A003 LIST \"\" *");
}

BOOST_AUTO_TEST_CASE(imap_login_keeps_tag) {
    Transcript t(Protocol::imap);
    t.on_server("* OK ready");
    t.on_client("A002 LOGIN user pass");
    BOOST_TEST(t.lines().back() == "C: A002 LOGIN [redacted]");
    BOOST_TEST(t.last_command() == "A002 LOGIN [redacted]");
    BOOST_TEST(hidden(t, "pass"));
    t.on_client("a7 login \"user\" \"p@ss w0rd\"");
    BOOST_TEST(t.lines().back().find("p@ss") == std::string::npos, t.lines().back());
    BOOST_TEST(t.lines().back().rfind("C: a7 ", 0) == 0, t.lines().back());
}

BOOST_AUTO_TEST_CASE(pop3_pass_redacted_user_kept) {
    Transcript t(Protocol::pop3);
    t.on_server("+OK POP3 ready");
    t.on_client("USER bob");
    BOOST_TEST(t.lines().back() == "C: USER bob");
    t.on_server("+OK");
    t.on_client("PASS secret");
    BOOST_TEST(t.lines().back() == "C: PASS [redacted]");
    BOOST_TEST(hidden(t, "secret"));
    t.on_server("+OK logged in");
    t.on_client("STAT");
    BOOST_TEST(t.lines().back() == "C: STAT");
}

BOOST_AUTO_TEST_CASE(pop3_apop_redacted) {
    Transcript t(Protocol::pop3);
    t.on_server("+OK <1896.697170952@dbc.mtview.ca.us>");
    t.on_client("APOP mrose c4c9334bac560ecc979e58001b3e22fb");
    BOOST_TEST(t.lines().back() == "C: APOP [redacted]");
    BOOST_TEST(hidden(t, "c4c9334bac560ecc979e58001b3e22fb"));
}

BOOST_AUTO_TEST_CASE(pop3_auth_continuation) {
    Transcript t(Protocol::pop3);
    t.on_server("+OK ready");
    t.on_client("AUTH PLAIN");
    t.on_server("+ ");
    t.on_client("AHVzZXIAcGFzcw==");
    BOOST_TEST(t.lines().back() == "C: [redacted]");
    t.on_server("+OK maildrop locked");
    t.on_client("STAT");
    BOOST_TEST(t.lines().back() == "C: STAT");
}

BOOST_AUTO_TEST_CASE(redactor_directly) {
    Redactor r;
    BOOST_TEST(r.client_line("EHLO host") == "EHLO host");
    BOOST_TEST(r.client_line("auth login") == "AUTH login [redacted]");
    r.server_line("334 VXNlcm5hbWU6");
    BOOST_TEST(r.client_line("dXNlcg==") == "[redacted]");
    r.server_line("334 UGFzc3dvcmQ6");
    BOOST_TEST(r.client_line("cGFzcw==") == "[redacted]");
    r.server_line("235 ok");
    BOOST_TEST(r.client_line("dXNlcg==") == "dXNlcg==");
    BOOST_TEST(r.client_line("pass hunter2") == "PASS [redacted]");
    BOOST_TEST(r.client_line("AUTH") == "AUTH [redacted]");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(stages)

BOOST_AUTO_TEST_CASE(greeting_first) {
    Transcript t(Protocol::smtp);
    BOOST_TEST((t.protocol() == Protocol::smtp));
    BOOST_TEST(t.waiting_for() == "greeting");
    BOOST_TEST(!t.got_server_line());
    t.on_server("220 mx ESMTP");
    BOOST_TEST(t.got_server_line());
    BOOST_TEST(t.waiting_for() != "greeting");
}

BOOST_AUTO_TEST_CASE(ehlo_response) {
    Transcript t(Protocol::smtp);
    t.on_server("220 mx ESMTP");
    t.on_client("EHLO monitor.example.org");
    BOOST_TEST(t.waiting_for() == "EHLO response");
    t.on_server("250-mx.example.org");
    t.on_server("250-PIPELINING");
    BOOST_TEST(t.waiting_for() == "EHLO response");  // multi-line reply not finished
    t.on_server("250 SMTPUTF8");
    BOOST_TEST(t.waiting_for() != "EHLO response");
}

BOOST_AUTO_TEST_CASE(login_response_after_auth) {
    Transcript t(Protocol::smtp);
    t.on_server("220 mx ESMTP");
    t.on_client("AUTH PLAIN AHVzZXIAcGFzcw==");
    BOOST_TEST(t.waiting_for() == "login response");
}

BOOST_AUTO_TEST_CASE(login_response_after_auth_login_password) {
    // Waiting for the verdict on the password: the stage is the login, and the stage
    // name (printed in timeout messages) must not echo the encoded credentials.
    Transcript t(Protocol::smtp);
    t.on_server("220 mx ESMTP");
    t.on_client("AUTH LOGIN");
    BOOST_TEST(t.waiting_for() == "login response");
    t.on_server("334 VXNlcm5hbWU6");
    t.on_client("dXNlcg==");
    BOOST_TEST(t.waiting_for() == "login response");
    t.on_server("334 UGFzc3dvcmQ6");
    t.on_client("cGFzc3dvcmQxMjM=");
    BOOST_TEST(t.waiting_for() == "login response");
    BOOST_TEST(hidden(t, "cGFzc3dvcmQxMjM="));
}

BOOST_AUTO_TEST_CASE(login_response_after_imap_continuation) {
    Transcript t(Protocol::imap);
    t.on_server("* OK ready");
    t.on_client("A001 AUTHENTICATE PLAIN");
    t.on_server("+ ");
    t.on_client("AHVzZXIAcGFzcw==");
    BOOST_TEST(t.waiting_for() == "login response");
    BOOST_TEST(hidden(t, "AHVzZXIAcGFzcw=="));
}

BOOST_AUTO_TEST_CASE(login_response_imap_and_pop3) {
    Transcript imap(Protocol::imap);
    imap.on_server("* OK ready");
    imap.on_client("A002 LOGIN user pass");
    BOOST_TEST(imap.waiting_for() == "login response");
    Transcript pop(Protocol::pop3);
    pop.on_server("+OK ready");
    pop.on_client("USER bob");
    BOOST_TEST(pop.waiting_for() == "login response");
    pop.on_server("+OK");
    pop.on_client("PASS secret");
    BOOST_TEST(pop.waiting_for() == "login response");
}

BOOST_AUTO_TEST_CASE(end_of_data_and_data_reply) {
    Transcript t(Protocol::smtp);
    t.on_server("220 mx ESMTP");
    t.on_client("MAIL FROM:<a@b>");
    BOOST_TEST(t.waiting_for() == "MAIL response");
    t.on_server("250 ok");
    t.on_client("RCPT TO:<c@d>");
    BOOST_TEST(t.waiting_for() == "RCPT response");
    t.on_server("250 ok");
    t.on_client("DATA");
    BOOST_TEST(t.waiting_for() == "DATA response");
    BOOST_TEST(t.data_reply().empty());
    t.on_server("354 End data with <CR><LF>.<CR><LF>");
    BOOST_TEST(t.waiting_for() == "end-of-data response");
    BOOST_TEST(t.data_reply().empty());
    BOOST_TEST((t.data_reply_time() == Transcript::Clock::time_point{}));
    auto before = Transcript::Clock::now();
    t.on_server("250 2.0.0 Ok: queued as 4F1C2A7203E");
    BOOST_TEST(t.data_reply() == "250 2.0.0 Ok: queued as 4F1C2A7203E");
    BOOST_TEST((t.data_reply_time() >= before));
    BOOST_TEST(t.waiting_for() != "end-of-data response");
    t.on_client("QUIT");
    t.on_server("221 bye");
    BOOST_TEST(t.data_reply() == "250 2.0.0 Ok: queued as 4F1C2A7203E");
}

BOOST_AUTO_TEST_CASE(data_refused_has_no_data_reply) {
    Transcript t(Protocol::smtp);
    t.on_server("220 mx");
    t.on_client("DATA");
    t.on_server("554 5.5.1 No valid recipients");
    BOOST_TEST(t.data_reply().empty());
    BOOST_TEST(t.waiting_for() != "end-of-data response");
    BOOST_TEST(t.last_reply() == "554 5.5.1 No valid recipients");
}

BOOST_AUTO_TEST_CASE(multiline_data_reply_takes_final_line) {
    Transcript t(Protocol::smtp);
    t.on_server("220 mx");
    t.on_client("DATA");
    t.on_server("354 go ahead");
    t.on_server("250-first part");
    BOOST_TEST(t.waiting_for() == "end-of-data response");
    t.on_server("250 2.0.0 queued as ABC");
    BOOST_TEST(t.data_reply() == "250 2.0.0 queued as ABC");
}

BOOST_AUTO_TEST_CASE(tls_handshake_after_starttls) {
    Transcript t(Protocol::smtp);
    t.on_server("220 mx ESMTP");
    t.on_client("STARTTLS");
    BOOST_TEST(t.waiting_for() == "STARTTLS response");
    t.on_server("220 2.0.0 Ready to start TLS");
    BOOST_TEST(t.waiting_for() == "TLS handshake");
    Transcript pop(Protocol::pop3);
    pop.on_server("+OK ready");
    pop.on_client("STLS");
    pop.on_server("+OK Begin TLS negotiation");
    BOOST_TEST(pop.waiting_for() == "TLS handshake");
}

BOOST_AUTO_TEST_CASE(imap_tagged_verb) {
    Transcript t(Protocol::imap);
    t.on_server("* OK ready");
    t.on_client("A005 SELECT INBOX");
    BOOST_TEST(t.waiting_for() == "SELECT response");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(bounds)

BOOST_AUTO_TEST_CASE(last_reply_sanitized) {
    Transcript t(Protocol::smtp);
    t.on_server("550 5.7.1 bad|thing\x01\x1b[0m here \xff");
    BOOST_TEST(t.last_reply() == "550 5.7.1 bad/thing [0m here ?");
    t.on_server(std::string(1000, 'x'));
    BOOST_TEST(t.last_reply().size() <= 303u);
    BOOST_TEST(t.last_reply().substr(t.last_reply().size() - 3) == "...");
}

BOOST_AUTO_TEST_CASE(remembered_lines_sanitized) {
    Transcript t(Protocol::smtp);
    t.on_server("220 hello|world\r");
    BOOST_TEST(t.lines().back() == "S: 220 hello/world");
    t.on_client(std::string(5000, 'A'));
    BOOST_TEST(t.lines().back().size() <= 403u);
}

BOOST_AUTO_TEST_CASE(lines_bounded) {
    Transcript t(Protocol::smtp);
    t.on_server("220 mx");
    for (int i = 0; i < 10000; ++i) {
        t.on_client("NOOP " + std::to_string(i));
        t.on_server("250 ok " + std::to_string(i));
    }
    BOOST_TEST(t.lines().size() <= 400u);
    BOOST_TEST(t.lines().size() >= 100u);
    BOOST_TEST(t.lines().back() == "S: 250 ok 9999");
    BOOST_TEST(t.lines().front() != "S: 220 mx");
}

BOOST_AUTO_TEST_CASE(order_kept) {
    Transcript t(Protocol::smtp);
    t.on_server("220 mx");
    t.on_client("EHLO me");
    t.on_server("250 ok");
    BOOST_TEST_REQUIRE(t.lines().size() == 3u);
    BOOST_TEST(t.lines()[0] == "S: 220 mx");
    BOOST_TEST(t.lines()[1] == "C: EHLO me");
    BOOST_TEST(t.lines()[2] == "S: 250 ok");
}

BOOST_AUTO_TEST_SUITE_END()

// Hostile servers (issue 7): junk and wrongly tagged lines end no reply, so that a timeout
// names the command still waiting for its answer.
BOOST_AUTO_TEST_SUITE(hostile_stages)

BOOST_AUTO_TEST_CASE(garbage_before_any_reply_is_still_the_greeting) {
    Transcript t(Protocol::smtp);
    t.on_server("\x01\x02 garbage |||");
    t.on_server("OK not a reply");
    BOOST_TEST(t.got_server_line());
    BOOST_TEST(t.waiting_for() == "greeting");
}

BOOST_AUTO_TEST_CASE(smtp_junk_does_not_end_the_reply) {
    Transcript t(Protocol::smtp);
    t.on_server("220 mx ESMTP");
    t.on_client("EHLO me");
    t.on_server(std::string("\0\0\x01\x02 junk", 9));
    t.on_server("25");
    BOOST_TEST(t.waiting_for() == "EHLO response");
    t.on_server("250 ok");
    BOOST_TEST(t.waiting_for() != "EHLO response");
}

BOOST_AUTO_TEST_CASE(imap_wrong_tag_does_not_end_the_reply) {
    Transcript t(Protocol::imap);
    t.on_server("* OK ready");
    t.on_client("A001 CAPABILITY");
    t.on_server("* CAPABILITY IMAP4rev1");
    t.on_server("WA001 OK done");
    BOOST_TEST(t.waiting_for() == "CAPABILITY response");
    t.on_server("A001 OK done");
    BOOST_TEST(t.waiting_for() != "CAPABILITY response");
}

BOOST_AUTO_TEST_CASE(pop3_junk_does_not_end_the_reply) {
    Transcript t(Protocol::pop3);
    t.on_server("+OK ready");
    t.on_client("CAPA");
    t.on_server("\x7f\x80 junk");
    BOOST_TEST(t.waiting_for() == "CAPA response");
    t.on_server("+OK list follows");
    BOOST_TEST(t.waiting_for() != "CAPA response");
}

BOOST_AUTO_TEST_CASE(connected_flag) {
    Transcript t(Protocol::smtp);
    BOOST_TEST(!t.connected());
    t.on_connected();
    BOOST_TEST(t.connected());
}

BOOST_AUTO_TEST_SUITE_END()

// The transcript travels on the failure it explains (the runner shows it at -vvv), not
// through anything global.
BOOST_AUTO_TEST_SUITE(on_failures)

BOOST_AUTO_TEST_CASE(a_failure_carries_the_redacted_lines_under_the_protocol) {
    Transcript t(Protocol::imap);
    t.on_server("* OK ready");
    t.on_client("A001 LOGIN probe hunter2");
    t.on_server("A001 NO [AUTHENTICATIONFAILED] failed");
    CheckFailure f = t.explained(critical("IMAP login as probe failed"));
    const std::vector<std::string> expected = {"-- IMAP --", "S: * OK ready",
                                               "C: A001 LOGIN [redacted]",
                                               "S: A001 NO [AUTHENTICATIONFAILED] failed"};
    BOOST_TEST(f.transcript() == expected, boost::test_tools::per_element());
    BOOST_TEST(std::string(f.what()) == "IMAP login as probe failed");
}

BOOST_AUTO_TEST_CASE(each_failure_carries_only_its_own_conversation) {
    std::optional<CheckFailure> first, second;
    {
        Transcript smtp(Protocol::smtp);
        smtp.on_server("554 go away");
        first = smtp.explained(critical("refused"));
    }
    {
        Transcript pop(Protocol::pop3);
        pop.on_server("-ERR busy");
        second = pop.explained(critical("busy"));
    }
    const std::vector<std::string> smtp_lines = {"-- SMTP --", "S: 554 go away"};
    const std::vector<std::string> pop_lines = {"-- POP3 --", "S: -ERR busy"};
    BOOST_TEST(first->transcript() == smtp_lines, boost::test_tools::per_element());
    BOOST_TEST(second->transcript() == pop_lines, boost::test_tools::per_element());
    BOOST_TEST(critical("no conversation").transcript().empty());
}

BOOST_AUTO_TEST_CASE(the_innermost_conversation_explains_the_failure) {
    Transcript inner(Protocol::smtp), outer(Protocol::imap);
    inner.on_server("421 closing");
    outer.on_server("* OK ready");
    CheckFailure f = inner.explained(critical("lost"));
    outer.attach_to(f);
    BOOST_TEST(f.transcript().front() == "-- SMTP --");
    BOOST_TEST(f.transcript().size() == 2u);
}

BOOST_AUTO_TEST_CASE(a_silent_conversation_explains_nothing) {
    Transcript silent(Protocol::pop3), spoken(Protocol::pop3);
    CheckFailure f = silent.explained(critical("cannot connect"));
    BOOST_TEST(f.transcript().empty());
    spoken.on_server("+OK ready");
    spoken.attach_to(f);  // a later, outer conversation may still explain it
    BOOST_TEST(f.transcript().size() == 2u);
}

BOOST_AUTO_TEST_CASE(explained_keeps_the_kind_of_failure) {
    struct Refusal : CheckFailure {
        using CheckFailure::CheckFailure;
    };
    Transcript t(Protocol::smtp);
    t.on_server("535 no");
    Refusal r = t.explained(Refusal(Status::critical, "refused"));
    BOOST_TEST(r.transcript().size() == 2u);
}

BOOST_AUTO_TEST_SUITE_END()
