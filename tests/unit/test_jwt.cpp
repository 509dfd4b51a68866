#define BOOST_TEST_MODULE jwt
#include "oauth2/jwt.hpp"

#include <openssl/pem.h>

#include <boost/test/unit_test.hpp>
#include <regex>
#include <set>
#include <string>

#include "core/error.hpp"
#include "jwt_test_util.hpp"
#include "oauth2_test_keys.hpp"
#include "support.hpp"

using namespace mailprobe;
using namespace mailprobe::test;
using oauth2::PrivateKey;

BOOST_AUTO_TEST_CASE(reproduces_the_rs256_example_of_rfc7515_appendix_a2) {
    // RSASSA-PKCS1-v1_5 is deterministic: the same key and bytes give the RFC's signature.
    const std::string header = "{\"alg\":\"RS256\"}";
    const std::string payload =
        "{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n \"http://example.com/is_root\":true}";
    const std::string expected =
        "eyJhbGciOiJSUzI1NiJ9"
        "."
        "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFt"
        "cGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
        "."
        "cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7"
        "AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4"
        "BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K"
        "0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqv"
        "hJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrB"
        "p0igcN_IoypGlUPQGe77Rw";
    auto key = PrivateKey::from_pem(k_rfc7515_a2_key, "test key");
    BOOST_TEST(oauth2::sign_rs256_compact(header, payload, key) == expected);
}

BOOST_AUTO_TEST_CASE(signs_json_claims_with_alg_rs256_in_the_header) {
    auto key = PrivateKey::from_pem(k_rfc7515_a2_key, "test key");
    std::string jwt =
        oauth2::sign_rs256_jwt({{"typ", "JWT"}, {"kid", "k1"}}, {{"iss", "joe"}, {"n", 1}}, key);
    auto decoded = decode_jwt(jwt);
    BOOST_TEST(decoded.header == (nlohmann::json{{"alg", "RS256"}, {"typ", "JWT"}, {"kid", "k1"}}));
    BOOST_TEST(decoded.claims == (nlohmann::json{{"iss", "joe"}, {"n", 1}}));
    BOOST_TEST(rs256_verifies(decoded, key.get()));
    decoded.signing_input += " ";
    BOOST_TEST(!rs256_verifies(decoded, key.get()));
}

BOOST_AUTO_TEST_CASE(loads_pkcs1_and_pkcs8_rsa_keys) {
    BOOST_CHECK_NO_THROW(PrivateKey::from_pem(k_client_key, "client key k.pem"));
    // The same key as "RSA PRIVATE KEY" (PKCS#1), as older tools write it.
    auto pkcs8 = PrivateKey::from_pem(k_rfc7515_a2_key, "k");
    oauth2::BioPtr bio(BIO_new(BIO_s_mem()));
    BOOST_REQUIRE(PEM_write_bio_PrivateKey_traditional(bio.get(), pkcs8.get(), nullptr, nullptr, 0,
                                                       nullptr, nullptr) == 1);
    char* data = nullptr;
    long size = BIO_get_mem_data(bio.get(), &data);
    std::string pkcs1(data, static_cast<std::size_t>(size));
    BOOST_TEST(contains(pkcs1, "BEGIN RSA PRIVATE KEY"));
    auto reloaded = PrivateKey::from_pem(pkcs1, "k");
    BOOST_TEST(EVP_PKEY_eq(reloaded.get(), pkcs8.get()) == 1);
}

struct BadKey {
    const char* name;
    std::string pem;
    std::string reason;
};

BOOST_AUTO_TEST_CASE(refuses_keys_it_cannot_sign_rs256_with_and_names_the_file) {
    const BadKey cases[] = {
        {"garbage", "not a key at all\n", "holds no PEM private key"},
        {"empty", "", "holds no PEM private key"},
        {"certificate", k_client_certificate, "holds no PEM private key"},
        {"EC", k_ec_key, "is not an RSA key"},
        {"encrypted", k_encrypted_key, "is encrypted"},
    };
    for (const auto& c : cases) {
        std::string message = message_of<UsageError>(
            [&] { PrivateKey::from_pem(c.pem, "client key /etc/mailprobe/app.key"); });
        BOOST_TEST(contains(message, "client key /etc/mailprobe/app.key"),
                   c.name << ": " << message);
        BOOST_TEST(contains(message, c.reason), c.name << ": " << message);
        BOOST_TEST(!contains(message, "MII"), c.name << ": key material in " << message);
    }
}

BOOST_AUTO_TEST_CASE(jti_is_a_fresh_random_guid_each_time) {
    const std::regex guid("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
    std::set<std::string> seen;
    for (int i = 0; i < 100; ++i) {
        std::string jti = oauth2::random_jti();
        BOOST_TEST(std::regex_match(jti, guid), jti);
        seen.insert(jti);
    }
    BOOST_TEST(seen.size() == 100u);
}
