// curl::connect_failure_text and curl::transfer_failure (common/curl/connection.hpp): line 1
// names the real cause in words (refused, timed out, no route; the server's BYE), never
// libcurl's "Couldn't connect to server".
#define BOOST_TEST_MODULE connection
#include <boost/test/unit_test.hpp>

#include <cerrno>
#include <ostream>
#include <string>
#include <vector>

#include "curl/connection.hpp"

using namespace mailprobe;
using namespace mailprobe::curl;

namespace mailprobe {
std::ostream& operator<<(std::ostream& out, Status s) {
    return out << status_name(s);
}
}  // namespace mailprobe

BOOST_AUTO_TEST_CASE(connect_errors_in_words) {
    const std::string server = "SMTP server mx.example.org:25";
    struct Case {
        int os_errno;
        const char* text;
    };
    for (const Case& c : {
             Case{ECONNREFUSED, "connection refused by SMTP server mx.example.org:25"},
             Case{ETIMEDOUT, "connection to SMTP server mx.example.org:25 timed out"},
             Case{EHOSTUNREACH, "no route to SMTP server mx.example.org:25 (host unreachable)"},
             Case{ENETUNREACH, "no route to SMTP server mx.example.org:25 (network unreachable)"},
             Case{0, "cannot connect to SMTP server mx.example.org:25"},
             Case{EACCES, "cannot connect to SMTP server mx.example.org:25: Permission denied"},
         }) {
        BOOST_TEST(connect_failure_text(c.os_errno, server) == c.text);
    }
}

BOOST_AUTO_TEST_CASE(imap_bye_is_quoted_whatever_libcurl_made_of_it) {
    Endpoint ep;
    ep.protocol = Protocol::imap;
    ep.host = "imap.example.org";
    ep.port = 143;
    Credentials cred;
    cred.user = "probe";
    Deadline deadline = Deadline::after_seconds(10);
    for (CURLcode code :
         {CURLE_LOGIN_DENIED, CURLE_RECV_ERROR, CURLE_GOT_NOTHING, CURLE_WEIRD_SERVER_REPLY}) {
        Easy easy;
        Transcript t(Protocol::imap);
        t.on_connected();
        t.on_server("* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready");
        t.on_client("A001 LOGIN probe secret");
        t.on_server("* BYE [UNAVAILABLE] maintenance");
        CheckFailure f = transfer_failure(code, easy, t, ep, deadline, &cred);
        BOOST_TEST(f.status() == Status::critical);
        BOOST_TEST(std::string(f.what()) ==
                   "IMAP server imap.example.org:143 closed the session: [UNAVAILABLE] "
                   "maintenance");
        // what was said travels with the failure, for -vvv, with the password hidden
        const std::vector<std::string> said = {
            "-- IMAP --", "S: * OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready",
            "C: A001 LOGIN [redacted]", "S: * BYE [UNAVAILABLE] maintenance"};
        BOOST_TEST(f.transcript() == said, boost::test_tools::per_element());
    }
}

BOOST_AUTO_TEST_CASE(url_scheme_from_the_protocol_and_tls) {
    Endpoint ep;
    ep.host = "mail.example.org";
    ep.port = 995;
    ep.protocol = Protocol::pop3;
    ep.tls = TlsMode::tls;
    BOOST_TEST(ep.url() == "pop3s://mail.example.org:995/");
    ep.protocol = Protocol::imap;
    ep.tls = TlsMode::starttls;
    ep.host = "2001:db8::1";
    BOOST_TEST(ep.url("INBOX") == "imap://[2001:db8::1]:995/INBOX");
    ep.protocol = Protocol::smtp;
    ep.tls = TlsMode::none;
    BOOST_TEST(ep.url("monitor.example.org") == "smtp://[2001:db8::1]:995/monitor.example.org");
}

BOOST_AUTO_TEST_CASE(bye_in_reply_to_logout_is_no_diagnosis) {
    Transcript t(Protocol::imap);
    t.on_client("A009 LOGOUT");
    t.on_server("* BYE Logging out");
    BOOST_TEST(t.bye().empty());
    Transcript pop(Protocol::pop3);
    pop.on_server("* BYE not IMAP");
    BOOST_TEST(pop.bye().empty());
}
