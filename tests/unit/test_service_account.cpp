#define BOOST_TEST_MODULE service_account
#include "oauth2/service_account.hpp"

#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "jwt_test_util.hpp"
#include "oauth2_test_keys.hpp"
#include "support.hpp"

using namespace mailprobe;
using namespace mailprobe::test;

namespace {

// A key file as the Google Cloud console downloads it (shortened to what matters).
nlohmann::json key_file() {
    return {{"type", "service_account"},
            {"project_id", "probe-project"},
            {"private_key_id", "0123456789abcdef"},
            {"private_key", k_rfc7515_a2_key},
            {"client_email", "mailprobe@probe-project.iam.gserviceaccount.com"},
            {"client_id", "1234567890"},
            {"token_uri", "https://oauth2.googleapis.com/token"}};
}

std::string error_for(const std::string& text) {
    return message_of<UsageError>(
        [&] { oauth2::parse_service_account(text, "/etc/mailprobe/sa.json"); });
}

}  // namespace

BOOST_AUTO_TEST_CASE(reads_what_the_grant_needs_from_the_key_file) {
    auto account = oauth2::parse_service_account(key_file().dump(2), "sa.json");
    BOOST_TEST(account.client_email == "mailprobe@probe-project.iam.gserviceaccount.com");
    BOOST_TEST(account.private_key_id == "0123456789abcdef");
    BOOST_TEST(account.token_uri == "https://oauth2.googleapis.com/token");
}

BOOST_AUTO_TEST_CASE(each_missing_or_empty_member_is_named) {
    for (const char* member : {"client_email", "private_key", "private_key_id", "token_uri"}) {
        for (nlohmann::json value : {nlohmann::json(), nlohmann::json(""), nlohmann::json(7)}) {
            auto doc = key_file();
            if (value.is_null()) {
                doc.erase(member);
            } else {
                doc[member] = value;
            }
            BOOST_TEST(
                error_for(doc.dump()) ==
                    std::string("service account key file /etc/mailprobe/sa.json has no \"") +
                        member + "\" (download a new JSON key for the service account)",
                member << " = " << value.dump());
        }
    }
}

BOOST_AUTO_TEST_CASE(other_kinds_of_credential_file_are_refused) {
    const std::string not_sa =
        "service account key file /etc/mailprobe/sa.json is not a service "
        "account key (\"type\" is not \"service_account\")";
    auto user = key_file();
    user["type"] = "authorized_user";  // what `gcloud auth application-default login` writes
    BOOST_TEST(error_for(user.dump()) == not_sa);
    auto untyped = key_file();
    untyped.erase("type");
    BOOST_TEST(error_for(untyped.dump()) == not_sa);
    const std::string not_json =
        "service account key file /etc/mailprobe/sa.json is not a JSON object";
    BOOST_TEST(error_for("{\"type\": \"service_account\",") == not_json);
    BOOST_TEST(error_for("[1, 2]") == not_json);
    BOOST_TEST(error_for("-----BEGIN PRIVATE KEY-----") == not_json);
}

BOOST_AUTO_TEST_CASE(a_broken_private_key_is_named_without_quoting_it) {
    auto doc = key_file();
    doc["private_key"] =
        "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqh\n-----END PRIVATE KEY-----\n";
    std::string message = error_for(doc.dump());
    BOOST_TEST(message ==
               "private_key of service account key file /etc/mailprobe/sa.json holds "
               "no PEM private key");
}

BOOST_AUTO_TEST_CASE(jwt_bearer_grant_follows_rfc7523_section_2_1_with_the_mailbox_as_sub) {
    auto account = oauth2::parse_service_account(key_file().dump(), "sa.json");
    const std::int64_t now = 1'800'000'000;
    auto fields = oauth2::service_account_grant_fields(account, "https://mail.google.com/",
                                                       "probe@example.org", now);
    BOOST_REQUIRE(fields.size() == 2u);
    BOOST_TEST(fields[0].first == "grant_type");
    BOOST_TEST(fields[0].second == "urn:ietf:params:oauth:grant-type:jwt-bearer");
    BOOST_TEST(fields[1].first == "assertion");
    auto jwt = decode_jwt(fields[1].second);
    BOOST_TEST(jwt.header ==
               (nlohmann::json{{"alg", "RS256"}, {"typ", "JWT"}, {"kid", "0123456789abcdef"}}));
    BOOST_TEST(jwt.claims == (nlohmann::json{{"iss", account.client_email},
                                             {"scope", "https://mail.google.com/"},
                                             {"aud", "https://oauth2.googleapis.com/token"},
                                             {"sub", "probe@example.org"},
                                             {"iat", now},
                                             {"exp", now + 3600}}));
    BOOST_TEST(rs256_verifies(jwt, account.key.get()));
}

BOOST_AUTO_TEST_CASE(loads_the_file_as_a_secret) {
    TempDir dir;
    std::vector<std::string> warnings;
    auto path = dir.write("sa.json", key_file().dump(), 0600);
    BOOST_TEST(oauth2::load_service_account(path, warnings).private_key_id == "0123456789abcdef");
    BOOST_TEST(warnings.empty());
    auto open = dir.write("open.json", key_file().dump(), 0640);
    oauth2::load_service_account(open, warnings);
    BOOST_REQUIRE(warnings.size() == 1u);
    BOOST_TEST(warnings[0] ==
               "service account key file " + open + " is readable by group or others (chmod 600)");
    BOOST_TEST(message_of<UsageError>([&] {
                   oauth2::load_service_account(dir.sub("none.json"), warnings);
               }) == "cannot read service account key file " + dir.sub("none.json") +
                         ": No such file or directory");
    auto empty = dir.write("empty.json", "\n", 0600);
    BOOST_TEST(message_of<UsageError>([&] { oauth2::load_service_account(empty, warnings); }) ==
               "service account key file " + empty + " is empty");
}
