#define BOOST_TEST_MODULE oauth2_options
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/secrets.hpp"
#include "options/oauth2_options.hpp"

using namespace mailprobe;
namespace fs = std::filesystem;

namespace {

OptionSet side_options() {
    OptionSet o("check_test", "Test plugin");
    o.value("smtp-auth-mech", 0, "MECH", "mechanism");
    add_token_options(o, Side::smtp);
    return o;
}

ParsedOptions parse(std::initializer_list<const char*> args) {
    std::vector<const char*> argv{"check_test"};
    argv.insert(argv.end(), args.begin(), args.end());
    return side_options().parse(static_cast<int>(argv.size()), argv.data());
}

struct TokenFile {
    fs::path path = fs::temp_directory_path() / ("mp-token-" + std::to_string(::getpid()));
    explicit TokenFile(const std::string& content) {
        std::ofstream(path) << content;
        fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write);
    }
    ~TokenFile() { fs::remove(path); }
};

std::string usage_error(const ParsedOptions& p, const std::string& user = "probe@example.org") {
    std::vector<std::string> warnings;
    try {
        bearer_credentials(p, Side::smtp, user, warnings);
    } catch (const UsageError& e) {
        return e.what();
    }
    return "";
}

}  // namespace

BOOST_AUTO_TEST_CASE(token_file_with_bearer_mechanism) {
    TokenFile f("eyJ.abc-_~+/=\n");
    auto p = parse({"--smtp-auth-mech", "xoauth2", "--smtp-token-file", f.path.c_str()});
    std::vector<std::string> warnings;
    auto cred = bearer_credentials(p, Side::smtp, "probe@example.org", warnings);
    BOOST_REQUIRE(cred.has_value());
    BOOST_TEST(cred->secret == "eyJ.abc-_~+/=");
    BOOST_TEST(cred->mechanism == "XOAUTH2");
    BOOST_TEST(cred->user == "probe@example.org");
    BOOST_TEST((cred->kind == curl::AuthKind::bearer));
    BOOST_TEST(warnings.empty());
    BOOST_TEST(secrets::scrub("token eyJ.abc-_~+/= here") == "token ******** here");
}

BOOST_AUTO_TEST_CASE(token_from_environment) {
    ::setenv("MAILPROBE_SMTP_TOKEN", "env-token-1234", 1);
    std::vector<std::string> warnings;
    auto cred =
        bearer_credentials(parse({"--smtp-auth-mech", "OAUTHBEARER"}), Side::smtp, "u", warnings);
    ::unsetenv("MAILPROBE_SMTP_TOKEN");
    BOOST_REQUIRE(cred.has_value());
    BOOST_TEST(cred->secret == "env-token-1234");
    BOOST_TEST(cred->mechanism == "OAUTHBEARER");
}

BOOST_AUTO_TEST_CASE(password_mechanisms_leave_the_password_path) {
    std::vector<std::string> warnings;
    BOOST_TEST(
        !bearer_credentials(parse({"--smtp-auth-mech", "PLAIN"}), Side::smtp, "u", warnings));
    BOOST_TEST(!bearer_credentials(parse({}), Side::smtp, "u", warnings));
}

BOOST_AUTO_TEST_CASE(usage_errors_say_what_is_missing) {
    ::unsetenv("MAILPROBE_SMTP_TOKEN");
    TokenFile f("token-1234");
    BOOST_TEST(usage_error(parse({"--smtp-auth-mech", "XOAUTH2"})) ==
               "--smtp-auth-mech XOAUTH2 needs a token: --smtp-token-file FILE, "
               "MAILPROBE_SMTP_TOKEN, --smtp-token-command or the OAuth2 client "
               "(--oauth2-provider)");
    BOOST_TEST(usage_error(parse({"--smtp-token-command", "/bin/echo x"})) ==
               "--smtp-token-command needs --smtp-auth-mech XOAUTH2 or OAUTHBEARER");
    BOOST_TEST(usage_error(parse({"--smtp-token-file", f.path.c_str()})) ==
               "--smtp-token-file needs --smtp-auth-mech XOAUTH2 or OAUTHBEARER");
    BOOST_TEST(
        usage_error(parse({"--smtp-auth-mech", "XOAUTH2", "--smtp-token-file", f.path.c_str()}),
                    "") == "--smtp-auth-mech XOAUTH2 needs --smtp-user");
}

BOOST_AUTO_TEST_CASE(tokens_that_would_break_a_protocol_line_are_refused) {
    for (const char* bad : {"abc def", "abc\tdef", "abc\x7f", "t\xc3\xa9st"}) {
        TokenFile f(bad);
        std::string err = usage_error(
            parse({"--smtp-auth-mech", "XOAUTH2", "--smtp-token-file", f.path.c_str()}));
        BOOST_TEST(err.find("the token contains a space, control or non-ASCII character") !=
                       std::string::npos,
                   bad);
    }
}

BOOST_AUTO_TEST_CASE(each_side_names_its_own_options) {
    BOOST_TEST(option_prefix(Side::smtp) == "smtp");
    BOOST_TEST(option_prefix(Side::mailbox) == "mailbox");
    OptionSet o("check_side_test", "Test plugin");
    add_token_options(o, Side::mailbox);
    BOOST_TEST(o.help_text().find("--mailbox-token-file") != std::string::npos);
    BOOST_TEST(o.help_text().find("MAILPROBE_MAILBOX_TOKEN") != std::string::npos);
    BOOST_TEST(o.help_text().find("--smtp-token-file") == std::string::npos);
}

namespace {

ParsedOptions parse_with_client(std::initializer_list<const char*> args) {
    OptionSet o = side_options();
    add_oauth2_client_options(o);
    std::vector<const char*> argv{"check_test"};
    argv.insert(argv.end(), args.begin(), args.end());
    return o.parse(static_cast<int>(argv.size()), argv.data());
}

std::string unused_client_error(const ParsedOptions& p, const curl::Credentials* side) {
    try {
        require_oauth2_client_use(p, {side});
    } catch (const UsageError& e) {
        return e.what();
    }
    return "";
}

}  // namespace

BOOST_AUTO_TEST_CASE(oauth2_client_options_no_login_uses_are_usage_errors) {
    // Without a bearer mechanism the client options would be ignored silently.
    auto p = parse_with_client({"--oauth2-provider", "microsoft", "--oauth2-tenant", "contoso"});
    const std::string error = unused_client_error(p, nullptr);
    BOOST_TEST(error.starts_with("--oauth2-"));
    BOOST_TEST(error.find("no login uses the OAuth2 client") != std::string::npos);
    BOOST_TEST(error.find("--mailbox-auth-mech or --smtp-auth-mech XOAUTH2") != std::string::npos);

    // A token file takes precedence over the client: the client options are unused too.
    TokenFile f("eyJ.abc\n");
    auto with_file = parse_with_client({"--smtp-auth-mech", "xoauth2", "--smtp-token-file",
                                        f.path.c_str(), "--oauth2-client-id", "app"});
    std::vector<std::string> warnings;
    auto cred = bearer_credentials(with_file, Side::smtp, "probe@example.org", warnings);
    BOOST_REQUIRE(cred.has_value());
    BOOST_TEST(unused_client_error(with_file, &*cred).starts_with("--oauth2-client-id: "));
}

BOOST_AUTO_TEST_CASE(no_oauth2_options_or_a_login_through_the_client_pass) {
    // Defaults (cache margin, client authentication) are not options the user gave.
    BOOST_TEST(unused_client_error(parse_with_client({}), nullptr) == "");

    ::setenv("MAILPROBE_OAUTH2_CLIENT_SECRET", "s3cret-for-the-test", 1);
    auto p = parse_with_client({"--smtp-auth-mech", "xoauth2", "--oauth2-provider", "generic",
                                "--oauth2-token-url", "http://127.0.0.1:9/token",
                                "--oauth2-client-id", "app"});
    std::vector<std::string> warnings;
    auto cred = bearer_credentials(p, Side::smtp, "probe@example.org", warnings);
    ::unsetenv("MAILPROBE_OAUTH2_CLIENT_SECRET");
    BOOST_REQUIRE(cred.has_value());
    BOOST_TEST(unused_client_error(p, &*cred) == "");
}
