#define BOOST_TEST_MODULE client_certificate
#include "oauth2/client_certificate.hpp"

#include <boost/test/unit_test.hpp>
#include <cctype>
#include <string>
#include <vector>

#include "core/base64.hpp"
#include "core/error.hpp"
#include "jwt_test_util.hpp"
#include "oauth2_test_keys.hpp"
#include "support.hpp"

using namespace mailprobe;
using namespace mailprobe::test;

namespace {

// "46:05:49:..." as `openssl x509 -fingerprint` prints it -> base64url of those bytes.
std::string base64url_of_fingerprint(const std::string& colon_hex) {
    std::string bytes;
    for (std::size_t i = 0; i + 1 < colon_hex.size(); i += 3) {
        bytes.push_back(static_cast<char>(std::stoi(colon_hex.substr(i, 2), nullptr, 16)));
    }
    return base64url_encode(bytes);
}

oauth2::ClientCertificate test_certificate() {
    return oauth2::parse_client_certificate(k_client_certificate, "app.crt", k_client_key,
                                            "app.key");
}

}  // namespace

BOOST_AUTO_TEST_CASE(thumbprints_are_those_openssl_prints_in_base64url) {
    auto cert = test_certificate();
    BOOST_TEST(cert.x5t == base64url_of_fingerprint(k_client_sha1_fingerprint));
    BOOST_TEST(cert.x5t_s256 == base64url_of_fingerprint(k_client_sha256_fingerprint));
    BOOST_TEST(cert.x5t == "RgVJtiKNVWM12gvWqyjBi9RIu7Y");
}

BOOST_AUTO_TEST_CASE(knows_when_the_certificate_expires_and_whom_it_names) {
    auto cert = test_certificate();
    BOOST_TEST(cert.not_after == k_client_not_after);
    BOOST_TEST(contains(cert.subject, "mailprobe unit test client"), cert.subject);
}

BOOST_AUTO_TEST_CASE(a_key_of_another_certificate_is_refused_naming_both_files) {
    std::string message = message_of<UsageError>([] {
        oauth2::parse_client_certificate(k_client_certificate, "/etc/app.crt", k_rfc7515_a2_key,
                                         "/etc/other.key");
    });
    BOOST_TEST(message ==
               "client key /etc/other.key does not belong to client certificate /etc/app.crt");
}

BOOST_AUTO_TEST_CASE(a_file_without_a_certificate_is_refused_by_name) {
    std::string message = message_of<UsageError>(
        [] { oauth2::parse_client_certificate(k_client_key, "/etc/app.crt", k_client_key, "k"); });
    BOOST_TEST(message == "client certificate /etc/app.crt holds no PEM certificate");
}

BOOST_AUTO_TEST_CASE(loads_both_files_and_notes_a_key_others_may_read) {
    TempDir dir;
    auto crt = dir.write("app.crt", k_client_certificate, 0644);
    auto key = dir.write("app.key", k_client_key, 0600);
    std::vector<std::string> warnings;
    auto cert = oauth2::load_client_certificate(crt, key, warnings);
    BOOST_TEST(cert.not_after == k_client_not_after);
    BOOST_TEST(warnings.empty());  // a certificate is public: no note for 0644

    auto open_key = dir.write("open.key", k_client_key, 0644);
    oauth2::load_client_certificate(crt, open_key, warnings);
    BOOST_REQUIRE(warnings.size() == 1u);
    BOOST_TEST(warnings[0] ==
               "client key " + open_key + " is readable by group or others (chmod 600)");
}

BOOST_AUTO_TEST_CASE(missing_or_unreadable_files_are_usage_errors_naming_them) {
    TempDir dir;
    auto crt = dir.write("app.crt", k_client_certificate, 0644);
    std::vector<std::string> warnings;
    std::string missing = dir.sub("missing.key");
    BOOST_TEST(message_of<UsageError>([&] {
                   oauth2::load_client_certificate(crt, missing, warnings);
               }) == "cannot read client key " + missing + ": No such file or directory");
    BOOST_TEST(message_of<UsageError>([&] {
                   oauth2::load_client_certificate(dir.path, missing, warnings);
               }) == "client certificate " + dir.path + " is a directory, not a file");
}

BOOST_AUTO_TEST_CASE(client_assertion_follows_rfc7523_section_2_2_as_entra_id_expects) {
    auto cert = test_certificate();
    const std::int64_t now = 1'800'000'000;
    const std::string url = "https://login.microsoftonline.com/contoso/oauth2/v2.0/token";
    auto fields = oauth2::client_assertion_fields(cert, "app-id-1", url, now);
    BOOST_REQUIRE(fields.size() == 2u);
    BOOST_TEST(fields[0].first == "client_assertion_type");
    BOOST_TEST(fields[0].second == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
    BOOST_TEST(fields[1].first == "client_assertion");

    auto jwt = decode_jwt(fields[1].second);
    BOOST_TEST(
        jwt.header ==
        (nlohmann::json{
            {"alg", "RS256"}, {"typ", "JWT"}, {"x5t", cert.x5t}, {"x5t#S256", cert.x5t_s256}}));
    BOOST_TEST(jwt.claims["iss"] == "app-id-1");
    BOOST_TEST(jwt.claims["sub"] == "app-id-1");
    BOOST_TEST(jwt.claims["aud"] == url);
    BOOST_TEST(jwt.claims["nbf"] == now);
    BOOST_TEST(jwt.claims["iat"] == now);
    BOOST_TEST(jwt.claims["exp"] == now + 300);
    BOOST_TEST(jwt.claims["jti"].get<std::string>().size() == 36u);
    BOOST_TEST(jwt.claims.size() == 7u);
    BOOST_TEST(rs256_verifies(jwt, cert.key.get()));

    // Each assertion is single-use: a new jti every time.
    auto again = decode_jwt(
        field(oauth2::client_assertion_fields(cert, "app-id-1", url, now), "client_assertion"));
    BOOST_TEST(again.claims["jti"] != jwt.claims["jti"]);
}
