#include "options/oauth2_options.hpp"

#include <cstdlib>

#include "core/error.hpp"
#include "oauth2/sasl.hpp"
#include "options/standard.hpp"
#include "output/secrets.hpp"

namespace mailprobe {

namespace {

std::string env_name(const std::string& side) {
    return side == "smtp" ? "MAILPROBE_SMTP_TOKEN" : "MAILPROBE_MAILBOX_TOKEN";
}

// RFC 6750 b64token characters and more, but never a space or control character: the
// token ends up inside a protocol line.
void check_token(const std::string& token, const std::string& source) {
    if (token.empty()) throw UsageError(source + ": the token is empty");
    for (unsigned char c : token) {
        if (c < 0x21 || c > 0x7e) {
            throw UsageError(source +
                             ": the token contains a space, control or non-ASCII "
                             "character");
        }
    }
}

}  // namespace

void add_token_options(OptionSet& o, const std::string& side) {
    o.value(side + "-token-file", 0, "FILE",
            "Read the OAuth2 access token for --" + side +
                "-auth-mech XOAUTH2|OAUTHBEARER from FILE (first line; keep it mode 0600). Or "
                "set " +
                env_name(side));
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
    if (mech_name.empty()) {
        if (file) {
            throw UsageError("--" + side + "-token-file needs --" + mech_option +
                             " XOAUTH2 or OAUTHBEARER");
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
    } else {
        throw UsageError("--" + mech_option + " " + mech_name + " needs a token: --" + side +
                         "-token-file FILE or " + env);
    }
    secrets::register_secret(token);
    check_token(token, source);
    return curl::Credentials{user, token, curl::AuthKind::bearer, mech_name};
}

}  // namespace mailprobe
