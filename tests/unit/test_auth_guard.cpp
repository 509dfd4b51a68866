// smtp::AuthGuard (common/smtp/auth_guard.hpp): with credentials, the EHLO reply libcurl acts
// on must offer AUTH (and the insisted mechanism), or the session stops before MAIL FROM.
// Replies as Postfix 3.7 words them; the real-server case is tests/integration/test_smtp_auth.py.
#define BOOST_TEST_MODULE auth_guard
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "smtp/auth_guard.hpp"

using mailprobe::smtp::AuthGuard;

namespace {

struct Line {
    bool from_server;
    std::string text;
};

Line C(std::string text) {
    return {false, std::move(text)};
}
Line S(std::string text) {
    return {true, std::move(text)};
}

// Feeds the lines; returns the index of the line after which the guard stopped (-1: never).
int stop_at(AuthGuard& guard, const std::vector<Line>& lines) {
    for (std::size_t i = 0; i < lines.size(); ++i) {
        bool stop =
            lines[i].from_server ? guard.on_server(lines[i].text) : guard.on_client(lines[i].text);
        if (stop) return static_cast<int>(i);
    }
    return -1;
}

const std::vector<Line> greeting = {S("220 mx.mail.test ESMTP Postfix"), C("EHLO probe.test")};
const std::vector<Line> ehlo_without_auth = {S("250-mx.mail.test"), S("250-PIPELINING"),
                                             S("250-SIZE 10240000"), S("250-STARTTLS"),
                                             S("250 8BITMIME")};
const std::vector<Line> ehlo_with_auth = {S("250-mx.mail.test"), S("250-PIPELINING"),
                                          S("250-AUTH PLAIN LOGIN"), S("250 8BITMIME")};

std::vector<Line> operator+(std::vector<Line> a, const std::vector<Line>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

}  // namespace

BOOST_AUTO_TEST_CASE(no_auth_offered_stops_at_the_end_of_ehlo) {
    AuthGuard guard(false, "");
    auto lines = greeting + ehlo_without_auth + std::vector<Line>{C("MAIL FROM:<a@b>")};
    BOOST_TEST(stop_at(guard, lines) == static_cast<int>(lines.size()) - 2);  // before MAIL
    BOOST_REQUIRE(guard.refusal().has_value());
    BOOST_TEST(*guard.refusal() ==
               "offers no AUTH (its EHLO lists PIPELINING, SIZE 10240000, STARTTLS, 8BITMIME); "
               "it offers STARTTLS, AUTH may need --smtp-tls starttls");
    BOOST_TEST(!guard.authenticated());
}

BOOST_AUTO_TEST_CASE(auth_offered_and_accepted) {
    AuthGuard guard(false, "");
    auto lines = greeting + ehlo_with_auth +
                 std::vector<Line>{C("AUTH PLAIN AHByb2JlAHNlY3JldA=="),
                                   S("235 2.7.0 Authentication successful"), C("MAIL FROM:<a@b>"),
                                   S("250 2.1.0 Ok")};
    BOOST_TEST(stop_at(guard, lines) == -1);
    BOOST_TEST(!guard.refusal().has_value());
    BOOST_TEST(guard.authenticated());
}

BOOST_AUTO_TEST_CASE(refused_auth_is_not_authenticated) {
    AuthGuard guard(false, "");
    auto lines = greeting + ehlo_with_auth +
                 std::vector<Line>{C("AUTH LOGIN"), S("334 VXNlcm5hbWU6"),
                                   C("cHJvYmU="),   S("334 UGFzc3dvcmQ6"),
                                   C("d3Jvbmc="),   S("535 5.7.8 Error: authentication failed")};
    BOOST_TEST(stop_at(guard, lines) == -1);  // libcurl reports the refusal itself
    BOOST_TEST(!guard.authenticated());
}

BOOST_AUTO_TEST_CASE(only_the_ehlo_after_starttls_counts) {
    AuthGuard guard(true, "");
    // Postfix with smtpd_tls_auth_only: AUTH only after STARTTLS.
    auto lines =
        greeting + ehlo_without_auth +
        std::vector<Line>{C("STARTTLS"), S("220 2.0.0 Ready to start TLS"), C("EHLO probe.test")} +
        ehlo_with_auth;
    BOOST_TEST(stop_at(guard, lines) == -1);
    BOOST_TEST(!guard.refusal().has_value());

    AuthGuard bare(true, "");
    auto without =
        greeting + ehlo_with_auth +
        std::vector<Line>{C("STARTTLS"), S("220 2.0.0 Ready to start TLS"), C("EHLO probe.test"),
                          S("250-mx.mail.test"), S("250 PIPELINING")};
    BOOST_TEST(stop_at(bare, without) == static_cast<int>(without.size()) - 1);
    BOOST_TEST(*bare.refusal() == "offers no AUTH (after STARTTLS: its EHLO lists PIPELINING)");
}

BOOST_AUTO_TEST_CASE(insisted_mechanism_must_be_offered) {
    AuthGuard guard(false, "cram-md5");
    BOOST_TEST(stop_at(guard, greeting + ehlo_with_auth) == 5);
    BOOST_TEST(*guard.refusal() == "does not offer AUTH CRAM-MD5 (it offers PLAIN, LOGIN)");
    AuthGuard plain(false, "PLAIN");
    BOOST_TEST(stop_at(plain, greeting + ehlo_with_auth) == -1);
}

BOOST_AUTO_TEST_CASE(old_auth_equals_form_and_helo_fallback) {
    AuthGuard old(false, "LOGIN");
    BOOST_TEST(stop_at(old, greeting + std::vector<Line>{S("250-host"), S("250 AUTH=LOGIN")}) ==
               -1);
    // EHLO refused: libcurl falls back to HELO, whose reply lists nothing.
    AuthGuard helo(false, "");
    auto lines = greeting + std::vector<Line>{S("502 5.5.2 Error: command not recognized"),
                                              C("HELO probe.test"), S("250 mx.mail.test")};
    BOOST_TEST(stop_at(helo, lines) == static_cast<int>(lines.size()) - 1);
    BOOST_TEST(*helo.refusal() == "offers no AUTH (its HELO reply lists no extensions)");
}
