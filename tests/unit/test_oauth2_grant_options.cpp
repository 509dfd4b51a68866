#define BOOST_TEST_MODULE oauth2_grant_options
#include "options/oauth2_grant_options.hpp"

#include "oauth2/client_certificate.hpp"

#include <boost/test/unit_test.hpp>
#include <initializer_list>
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

OptionSet grant_options() {
    OptionSet o("check_test", "Test plugin");
    o.value("oauth2-client-id", 0, "ID", "client")
        .value("oauth2-client-secret-file", 0, "FILE", "secret");
    add_oauth2_credential_options(o);
    return o;
}

ParsedOptions parse(const std::vector<std::string>& args) {
    std::vector<const char*> argv{"check_test"};
    for (const auto& a : args) argv.push_back(a.c_str());
    return grant_options().parse(static_cast<int>(argv.size()), argv.data());
}

struct Files {
    TempDir dir;
    std::string crt = dir.write("app.crt", k_client_certificate, 0644);
    std::string key = dir.write("app.key", k_client_key, 0600);
    std::string sa = dir.write("sa.json",
                               nlohmann::json{{"type", "service_account"},
                                              {"client_email", "sa@p.iam.gserviceaccount.com"},
                                              {"private_key_id", "kid-1"},
                                              {"private_key", k_rfc7515_a2_key},
                                              {"token_uri", "https://oauth2.googleapis.com/token"}}
                                   .dump(),
                               0600);
    std::string rt = dir.write("rt", "rt-1\n", 0600);
};

oauth2::CacheKey base_key() {
    return {"https://login.example/token", "", "https://outlook.office365.com/.default", ""};
}

std::string usage_error(const std::vector<std::string>& args) {
    return message_of<UsageError>([&] {
        auto key = base_key();
        std::vector<std::string> warnings;
        oauth2_credential_grant(parse(args), key, "probe@example.org", warnings);
    });
}

}  // namespace

BOOST_AUTO_TEST_CASE(no_credential_option_leaves_the_client_secret_to_the_caller) {
    auto key = base_key();
    std::vector<std::string> warnings;
    BOOST_TEST(!oauth2_credential_grant(parse({"--oauth2-client-id", "app"}), key, "u", warnings));
    BOOST_TEST(!oauth2_credential_given(parse({"--oauth2-client-id", "app"})));
}

BOOST_AUTO_TEST_CASE(certificate_grant_is_client_credentials_with_an_assertion) {
    Files f;
    auto key = base_key();
    std::vector<std::string> warnings;
    auto grant =
        oauth2_credential_grant(parse({"--oauth2-client-id", "app-1", "--oauth2-client-certificate",
                                       f.crt, "--oauth2-client-key", f.key}),
                                key, "probe@example.org", warnings);
    BOOST_REQUIRE(grant);
    BOOST_TEST(key.client_id == "app-1");
    BOOST_TEST(key.subject == "");  // one app token serves every mailbox
    auto fields = grant->fields();
    BOOST_TEST(field(fields, "grant_type") == "client_credentials");
    BOOST_TEST(field(fields, "client_id") == "app-1");
    BOOST_TEST(field(fields, "scope") == "https://outlook.office365.com/.default");
    auto jwt = decode_jwt(field(fields, "client_assertion"));
    BOOST_TEST(jwt.claims["aud"] == "https://login.example/token");
    BOOST_TEST(!grant->basic_auth());
    auto loaded = oauth2::loaded_client_certificate();
    BOOST_REQUIRE(loaded);
    BOOST_TEST(loaded->not_after == k_client_not_after);
}

BOOST_AUTO_TEST_CASE(service_account_grant_impersonates_the_user_and_keys_the_cache_by_it) {
    Files f;
    auto key = base_key();
    std::vector<std::string> warnings;
    auto grant = oauth2_credential_grant(parse({"--oauth2-service-account", f.sa}), key,
                                         "probe@example.org", warnings);
    BOOST_REQUIRE(grant);
    BOOST_TEST(key.client_id == "sa@p.iam.gserviceaccount.com");
    BOOST_TEST(key.subject == "probe@example.org");
    auto jwt = decode_jwt(field(grant->fields(), "assertion"));
    BOOST_TEST(jwt.claims["sub"] == "probe@example.org");
    BOOST_TEST(jwt.claims["aud"] == "https://oauth2.googleapis.com/token");
}

BOOST_AUTO_TEST_CASE(refresh_grant_reads_the_file_at_each_request) {
    Files f;
    auto key = base_key();
    std::vector<std::string> warnings;
    auto grant = oauth2_credential_grant(
        parse({"--oauth2-client-id", "app-2", "--oauth2-refresh-token-file", f.rt}), key, "u",
        warnings);
    BOOST_REQUIRE(grant);
    BOOST_TEST(field(grant->fields(), "refresh_token") == "rt-1");
    grant->on_reply({"at", "Bearer", 3600, std::string("rt-2")});
    BOOST_TEST(field(grant->fields(), "refresh_token") == "rt-2");
    BOOST_TEST(field(grant->fields(), "client_id") == "app-2");
}

BOOST_AUTO_TEST_CASE(options_that_do_not_go_together_are_usage_errors) {
    Files f;
    const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
        {{"--oauth2-client-id", "a", "--oauth2-client-certificate", f.crt},
         "--oauth2-client-certificate needs --oauth2-client-key"},
        {{"--oauth2-client-id", "a", "--oauth2-client-key", f.key},
         "--oauth2-client-key needs --oauth2-client-certificate"},
        {{"--oauth2-client-certificate", f.crt, "--oauth2-client-key", f.key},
         "--oauth2-client-certificate needs --oauth2-client-id ID"},
        {{"--oauth2-client-id", "a", "--oauth2-client-certificate", f.crt, "--oauth2-client-key",
          f.key, "--oauth2-service-account", f.sa},
         "--oauth2-client-certificate and --oauth2-service-account exclude each other"},
        {{"--oauth2-service-account", f.sa, "--oauth2-refresh-token-file", f.rt},
         "--oauth2-service-account and --oauth2-refresh-token-file exclude each other"},
        {{"--oauth2-client-id", "a", "--oauth2-client-secret-file", f.rt,
          "--oauth2-client-certificate", f.crt, "--oauth2-client-key", f.key},
         "--oauth2-client-secret-file and --oauth2-client-certificate exclude each other"},
        {{"--oauth2-client-id", "a", "--oauth2-service-account", f.sa},
         "--oauth2-service-account names its client itself: drop --oauth2-client-id"},
        {{"--oauth2-refresh-token-file", f.rt},
         "--oauth2-refresh-token-file needs --oauth2-client-id ID"},
        {{"--oauth2-client-id", "a", "--oauth2-refresh-token-file", f.dir.sub("none")},
         "cannot read secret file " + f.dir.sub("none") + ": No such file or directory"},
    };
    for (const auto& [args, expected] : cases) {
        BOOST_TEST(usage_error(args) == expected);
    }
}
