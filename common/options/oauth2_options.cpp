#include "options/oauth2_options.hpp"

#include <cstdlib>

#include "core/error.hpp"
#include "oauth2/sasl.hpp"
#include "oauth2/token_source.hpp"
#include "options/standard.hpp"
#include "output/secrets.hpp"
#include "process/child.hpp"

namespace mailprobe {

namespace {

std::string env_name(const std::string& side) {
    return side == "smtp" ? "MAILPROBE_SMTP_TOKEN" : "MAILPROBE_MAILBOX_TOKEN";
}

void check_token(const std::string& token, const std::string& source) {
    if (auto problem = oauth2::token_problem(token)) throw UsageError(source + ": " + *problem);
}

}  // namespace

void add_token_options(OptionSet& o, const std::string& side) {
    o.value(side + "-token-file", 0, "FILE",
            "Read the OAuth2 access token for --" + side +
                "-auth-mech XOAUTH2|OAUTHBEARER from FILE (first line; keep it mode 0600). Or "
                "set " +
                env_name(side))
        .value(side + "-token-command", 0, "COMMAND",
               "Run COMMAND (without a shell, within -t) and use the first line of its output as "
               "the OAuth2 access token, when neither --" +
                   side + "-token-file nor " + env_name(side) + " gives one");
}

std::optional<curl::Credentials> bearer_credentials(const ParsedOptions& p, const std::string& side,
                                                    const std::string& user,
                                                    std::vector<std::string>& warnings) {
    const std::string mech_option = side + "-auth-mech";
    const std::string env = env_name(side);
    const std::string mech_text = p.get_or(mech_option, "");
    const auto mech = oauth2::parse_mechanism(mech_text);
    const std::string mech_name = mech ? oauth2::mechanism_name(*mech) : "";
    auto file = p.get(side + "-token-file");
    auto command = p.get(side + "-token-command");
    if (mech_name.empty()) {
        if (file || command) {
            throw UsageError("--" + side + (file ? "-token-file" : "-token-command") + " needs --" +
                             mech_option + " XOAUTH2 or OAUTHBEARER");
        }
        return std::nullopt;
    }
    if (user.empty()) {
        throw UsageError("--" + mech_option + " " + mech_name + " needs --" + side + "-user");
    }
    std::string token;
    std::string source;
    if (file) {
        token = read_secret_file(*file, warnings);
        source = "--" + side + "-token-file " + *file;
    } else if (const char* value = std::getenv(env.c_str()); value && *value) {
        token = value;
        source = env;
    } else if (command) {
        auto argv = process::split_command(*command);
        if (argv.empty()) throw UsageError("--" + side + "-token-command: empty command");
        curl::Credentials cred{user, "", curl::AuthKind::bearer, mech_name, nullptr};
        cred.token_source = std::make_shared<oauth2::CommandTokenSource>(
            std::move(argv), side == "smtp" ? "SMTP" : "mailbox");
        return cred;
    } else {
        throw UsageError("--" + mech_option + " " + mech_name + " needs a token: --" + side +
                         "-token-file FILE, " + env + " or --" + side + "-token-command");
    }
    secrets::register_secret(token);
    check_token(token, source);
    return curl::Credentials{user, token, curl::AuthKind::bearer, mech_name, nullptr};
}

}  // namespace mailprobe
