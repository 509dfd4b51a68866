#define BOOST_TEST_MODULE oauth2_sasl
#include <boost/test/unit_test.hpp>
#include <string>
#include <vector>

#include "oauth2/sasl.hpp"

using namespace mailprobe;
using namespace mailprobe::oauth2;

BOOST_AUTO_TEST_SUITE(mechanism_names)

BOOST_AUTO_TEST_CASE(bearer_mechanisms_in_any_case) {
    BOOST_TEST((parse_mechanism("XOAUTH2") == Mechanism::xoauth2));
    BOOST_TEST((parse_mechanism("xoauth2") == Mechanism::xoauth2));
    BOOST_TEST((parse_mechanism("OAuthBearer") == Mechanism::oauthbearer));
    BOOST_TEST(mechanism_name(Mechanism::oauthbearer) == "OAUTHBEARER");
}

BOOST_AUTO_TEST_CASE(password_mechanisms_are_not_bearer) {
    for (const char* name : {"PLAIN", "LOGIN", "", "XOAUTH", "OAUTHBEARER2"}) {
        BOOST_TEST(!parse_mechanism(name).has_value(), name);
    }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(initial_response_)

// Google's XOAUTH2 protocol page, "The SASL XOAUTH2 Mechanism" example.
BOOST_AUTO_TEST_CASE(xoauth2_matches_googles_published_example) {
    BOOST_TEST(initial_response(Mechanism::xoauth2, "someuser@example.com",
                                "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg", "ignored", 1) ==
               "dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YTI5LnZGOWRmdDRxbVRjMk52YjNS"
               "bGNrQmhkSFJoZG1semRHRXVZMjl0Q2cBAQ==");
}

// RFC 7628 section 4.1 (successful bearer token exchange).
BOOST_AUTO_TEST_CASE(oauthbearer_matches_rfc7628_example) {
    BOOST_TEST(initial_response(Mechanism::oauthbearer, "user@example.com",
                                "vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==", "server.example.com",
                                143) ==
               "bixhPXVzZXJAZXhhbXBsZS5jb20sAWhvc3Q9c2VydmVyLmV4YW1wbGUuY29tAXBvcnQ9MTQzAWF1dGg9"
               "QmVhcmVyIHZGOWRmdDRxbVRjMk52YjNSbGNrQmhiSFJoZG1semRHRXVZMjl0Q2c9PQEB");
}

// "n,a=a=3Db=2Cc,\x01host=h\x01port=1\x01auth=Bearer t\x01\x01"
BOOST_AUTO_TEST_CASE(oauthbearer_escapes_comma_and_equals_in_the_user) {
    BOOST_TEST(initial_response(Mechanism::oauthbearer, "a=b,c", "t", "h", 1) ==
               "bixhPWE9M0RiPTJDYywBaG9zdD1oAXBvcnQ9MQFhdXRoPUJlYXJlciB0AQE=");
}

BOOST_AUTO_TEST_CASE(abort_responses_per_rfc7628) {
    BOOST_TEST(abort_response(Mechanism::oauthbearer) == "AQ==");  // %x01
    BOOST_TEST(abort_response(Mechanism::xoauth2) == "");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(error_payload)

struct PayloadCase {
    const char* payload;
    const char* expected;
};

BOOST_AUTO_TEST_CASE(decoded_into_words) {
    const PayloadCase cases[] = {
        // Gmail, XOAUTH2 documentation
        {"eyJzdGF0dXMiOiI0MDEiLCJzY2hlbWVzIjoiYmVhcmVyIiwic2NvcGUiOiJodHRwczovL21haWwuZ29vZ2xl"
         "LmNvbS8ifQ==",
         "status 401, schemes bearer, scope https://mail.google.com/"},
        // RFC 7628 section 4.3 (openid-configuration is left out)
        {"eyJzdGF0dXMiOiJpbnZhbGlkX3Rva2VuIiwic2NvcGUiOiJleGFtcGxlX3Njb3BlIiwib3BlbmlkLWNvbmZp"
         "Z3VyYXRpb24iOiJodHRwczovL2V4YW1wbGUuY29tLy53ZWxsLWtub3duL29wZW5pZC1jb25maWd1cmF0aW9u"
         "In0=",
         "status invalid_token, scope example_scope"},
        // Dovecot 2.3 as the test stack sends it, padding stripped
        {"eyJzdGF0dXMiOiJpbnZhbGlkX3Rva2VuIn0", "status invalid_token"},
        // a number instead of a string
        {"eyJzdGF0dXMiOjQwMX0=", "status 401"},
        // JSON without the known fields: shown as it is
        {"eyJmb28iOiJiYXIifQ==", "{\"foo\":\"bar\"}"},
        // base64 of plain text
        {"dG9rZW4gZXhwaXJlZA==", "token expired"},
        // not base64 at all: the server's own words
        {"Invalid credentials |x", "Invalid credentials /x"},
        {"", ""},
    };
    for (const auto& c : cases) {
        BOOST_TEST(describe_error_payload(c.payload) == c.expected, c.payload);
    }
}

BOOST_AUTO_TEST_CASE(control_characters_never_come_through) {
    // base64 of "{\"status\":\"4\r\n01\"}"
    std::string out = describe_error_payload("eyJzdGF0dXMiOiI0DQowMSJ9");
    BOOST_TEST(out.find_first_of("\r\n") == std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(advertised)

std::string joined(const std::set<std::string>& s) {
    std::string out;
    for (const auto& m : s) out += (out.empty() ? "" : " ") + m;
    return out;
}

BOOST_AUTO_TEST_CASE(imap_greeting_and_capability) {
    std::vector<std::string> lines = {
        "S: * OK [CAPABILITY IMAP4rev1 SASL-IR STARTTLS AUTH=PLAIN AUTH=XOAUTH2] ready",
        "C: A001 STARTTLS",
        "S: A001 OK go",
        "C: A002 CAPABILITY",
        "S: * CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN AUTH=OAUTHBEARER AUTH=XOAUTH2",
        "S: A002 OK done"};
    BOOST_TEST(joined(advertised_mechanisms(lines, curl::Protocol::imap)) ==
               "OAUTHBEARER PLAIN XOAUTH2");
    lines.resize(1);
    BOOST_TEST(joined(advertised_mechanisms(lines, curl::Protocol::imap)) == "PLAIN XOAUTH2");
}

BOOST_AUTO_TEST_CASE(pop3_capa) {
    std::vector<std::string> lines = {
        "S: +OK ready", "C: CAPA", "S: +OK", "S: USER", "S: SASL PLAIN XOAUTH2 OAUTHBEARER",
        "S: ."};
    BOOST_TEST(joined(advertised_mechanisms(lines, curl::Protocol::pop3)) ==
               "OAUTHBEARER PLAIN XOAUTH2");
}

BOOST_AUTO_TEST_CASE(smtp_ehlo_after_starttls_wins) {
    std::vector<std::string> lines = {"S: 220 mx ESMTP",
                                      "C: EHLO me",
                                      "S: 250-mx",
                                      "S: 250-AUTH PLAIN",
                                      "S: 250 STARTTLS",
                                      "C: STARTTLS",
                                      "S: 220 go",
                                      "C: EHLO me",
                                      "S: 250-mx",
                                      "S: 250-AUTH=LOGIN",
                                      "S: 250-AUTH LOGIN XOAUTH2",
                                      "S: 250 8BITMIME"};
    BOOST_TEST(joined(advertised_mechanisms(lines, curl::Protocol::smtp)) == "LOGIN XOAUTH2");
}

BOOST_AUTO_TEST_CASE(client_lines_and_lookalikes_ignored) {
    BOOST_TEST(joined(advertised_mechanisms({"S: * CAPABILITY AUTH= AUTH=X"},
                                            curl::Protocol::imap)) == "X");
    std::vector<std::string> lines = {"C: 250-AUTH XOAUTH2", "S: 250-AUTHX PLAIN", "S: 250 AUTH"};
    BOOST_TEST(joined(advertised_mechanisms(lines, curl::Protocol::smtp)) == "");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(microsoft_refusals)

BOOST_AUTO_TEST_CASE(basic_auth_off_for_submission) {
    std::string hint = explain_auth_refusal(
        "550 5.7.30 Basic authentication is not supported for Client Submission.",
        curl::Protocol::smtp, false);
    BOOST_TEST(hint.starts_with("this tenant requires OAuth2: use --smtp-auth-mech XOAUTH2"));
    BOOST_TEST(hint.find("MAILPROBE_SMTP_TOKEN") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(authentication_unsuccessful_with_password) {
    std::string hint = explain_auth_refusal(
        "535 5.7.3 Authentication unsuccessful [SN4PR0501CA0056.namprd05.prod.outlook.com]",
        curl::Protocol::smtp, false);
    BOOST_TEST(hint ==
               "basic authentication is off for this mailbox or tenant: use "
               "--smtp-auth-mech XOAUTH2");
}

BOOST_AUTO_TEST_CASE(authentication_unsuccessful_with_token) {
    std::string hint =
        explain_auth_refusal("535 5.7.3 Authentication unsuccessful", curl::Protocol::smtp, true);
    BOOST_TEST(hint.find("SMTP.SendAsApp") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(other_refusals_get_no_advice) {
    for (const char* reply :
         {"535 5.7.8 Error: authentication failed", "NO [AUTHENTICATIONFAILED]", ""}) {
        BOOST_TEST(explain_auth_refusal(reply, curl::Protocol::smtp, false).empty(), reply);
    }
}

BOOST_AUTO_TEST_SUITE_END()
