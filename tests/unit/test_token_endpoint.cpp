#define BOOST_TEST_MODULE token_endpoint
#include <boost/test/unit_test.hpp>
#include <string>

#include "core/secrets.hpp"
#include "oauth2/token_endpoint.hpp"
#include "result/failure.hpp"
#include "support.hpp"

using namespace mailprobe;
using namespace mailprobe::oauth2;
using mailprobe::test::contains;

namespace {

const std::string k_url = "https://login.example/token";

// The CRITICAL line parse_token_reply throws, or "" when it accepts the reply.
std::string refusal(std::string_view body, long status = 200) {
    try {
        parse_token_reply(body, status, k_url);
    } catch (const CheckFailure& e) {
        BOOST_TEST(e.status() == Status::critical);
        return e.what();
    }
    return "";
}

}  // namespace

BOOST_AUTO_TEST_CASE(good_reply_parsed) {
    auto r = parse_token_reply(
        R"({"access_token":"eyJ0.eyJ1.c2ln","token_type":"Bearer","expires_in":3599})", 200, k_url);
    BOOST_TEST(r.access_token == "eyJ0.eyJ1.c2ln");
    BOOST_TEST(r.token_type == "Bearer");
    BOOST_TEST(r.expires_in.value() == 3599);
    BOOST_TEST(!r.refresh_token.has_value());
    // the token is a secret from now on: scrubbed from any output
    BOOST_TEST(!contains(secrets::scrub("token eyJ0.eyJ1.c2ln here"), "eyJ0.eyJ1.c2ln"));
}

BOOST_AUTO_TEST_CASE(expires_in_forms) {
    struct Case {
        std::string json;
        std::optional<long long> expected;
    };
    const Case cases[] = {
        {R"("expires_in":3600)", 3600},
        {R"("expires_in":"3600")", 3600},  // older Entra ID endpoints send a string
        {R"("expires_in":3600.0)", 3600},
        {R"("expires_in":"soon")", std::nullopt},
        {R"("expires_in":null)", std::nullopt},
        {R"("ext_expires_in":3600)", std::nullopt},
    };
    for (const auto& c : cases) {
        auto r = parse_token_reply(R"({"access_token":"t1","token_type":"bearer",)" + c.json + "}",
                                   200, k_url);
        BOOST_TEST((r.expires_in == c.expected), c.json);
    }
}

BOOST_AUTO_TEST_CASE(refresh_token_kept_and_secret) {
    auto r = parse_token_reply(
        R"({"access_token":"a1","token_type":"Bearer","refresh_token":"r-rotated-77"})", 200,
        k_url);
    BOOST_TEST(r.refresh_token.value() == "r-rotated-77");
    BOOST_TEST(!contains(secrets::scrub("r-rotated-77"), "r-rotated-77"));
}

BOOST_AUTO_TEST_CASE(provider_errors_in_words) {
    struct Case {
        long status;
        std::string body;
        std::string expected;
    };
    const Case cases[] = {
        {401,
         R"({"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.","error_codes":[7000215]})",
         "OAuth2 token endpoint https://login.example/token refused the request (HTTP 401): "
         "invalid_client: AADSTS7000215: Invalid client secret provided."},
        {400, R"({"error":"invalid_grant"})",
         "OAuth2 token endpoint https://login.example/token refused the request (HTTP 400): "
         "invalid_grant"},
        {400, R"({"error":"invalid_scope","error_description":"bad\r\nscope"})",
         "refused the request (HTTP 400): invalid_scope: bad scope"},
        {503, R"({})", "refused the request (HTTP 503)"},
        // an error member on a 200 reply is still an error
        {200, R"({"error":"temporarily_unavailable"})",
         "refused the request (HTTP 200): temporarily_unavailable"},
    };
    for (const auto& c : cases) BOOST_TEST(contains(refusal(c.body, c.status), c.expected), c.body);
}

BOOST_AUTO_TEST_CASE(unusable_replies_named) {
    struct Case {
        long status;
        std::string body;
        std::string expected;
    };
    const Case cases[] = {
        {502, "<html>Bad Gateway</html>", "HTTP 502, not a JSON token reply: <html>Bad Gateway"},
        {200, "", "HTTP 200, not a JSON token reply (empty body)"},
        {200, R"(["access_token"])", "not a JSON token reply"},
        {200, R"({"token_type":"Bearer"})", "the reply has no access_token"},
        {200, R"({"access_token":42})", "the reply has no access_token"},
        {200, R"({"access_token":"a b","token_type":"Bearer"})",
         "unusable access_token: the token contains a space"},
        {200, R"({"access_token":"a\r\nA1 LOGOUT"})", "unusable access_token"},
        {200, R"({"access_token":"abc","token_type":"mac"})", "token_type 'mac' is not Bearer"},
    };
    for (const auto& c : cases) BOOST_TEST(contains(refusal(c.body, c.status), c.expected), c.body);
}

BOOST_AUTO_TEST_CASE(form_encoding) {
    BOOST_TEST(form_encode({{"grant_type", "client_credentials"},
                            {"scope", "https://outlook.office365.com/.default"},
                            {"client_secret", "a+b/c=d&e f~"}}) ==
               "grant_type=client_credentials&scope=https%3A%2F%2Foutlook.office365.com%2F."
               "default&client_secret=a%2Bb%2Fc%3Dd%26e+f~");
    BOOST_TEST(form_encode({}) == "");
}

BOOST_AUTO_TEST_CASE(token_urls) {
    for (const char* good :
         {"https://login.microsoftonline.com/x/oauth2/v2.0/token", "http://127.0.0.1:31940/token",
          "http://localhost/token", "http://[::1]:8080/token"}) {
        BOOST_TEST(!token_url_problem(good).has_value(), good);
    }
    for (const char* bad : {"http://192.0.2.1/token", "http://127.0.0.1.evil.example/token",
                            "http://127.0.0.1@evil.example/", "ftp://x/", "https://",
                            "https://a/\r\nX: y", "https://a b/"}) {
        BOOST_TEST(token_url_problem(bad).has_value(), bad);
    }
}

BOOST_AUTO_TEST_CASE(unreachable_endpoint_is_critical_in_words) {
    // Port 9 (discard) on loopback: nothing listens in the test environment.
    try {
        request_token({"http://127.0.0.1:9/token", std::nullopt}, {{"grant_type", "x"}},
                      std::nullopt, Deadline::after_seconds(5));
        BOOST_FAIL("no exception");
    } catch (const CheckFailure& e) {
        BOOST_TEST(e.status() == Status::critical);
        BOOST_TEST(contains(e.what(),
                            "OAuth2 token endpoint http://127.0.0.1:9/token: "
                            "connection refused by the token endpoint"),
                   e.what());
    }
}
