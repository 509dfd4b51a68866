#include "options/oauth2_options.hpp"

#include <cstdlib>

#include "core/error.hpp"
#include "core/secrets.hpp"
#include "oauth2/client_source.hpp"
#include "oauth2/sasl.hpp"
#include "oauth2/token_source.hpp"
#include "options/oauth2_grant_options.hpp"
#include "options/standard.hpp"
#include "process/child.hpp"
#include "state/secret_file.hpp"

namespace mailprobe {

namespace {

std::string env_name(Side side) {
    return side == Side::smtp ? "MAILPROBE_SMTP_TOKEN" : "MAILPROBE_MAILBOX_TOKEN";
}

void check_token(const std::string& token, const std::string& source) {
    if (auto problem = oauth2::token_problem(token)) throw UsageError(source + ": " + *problem);
}

// Each provider's endpoint and default scope, stated once (help, man pages and the client).
constexpr const char* k_microsoft_url =
    "https://login.microsoftonline.com/TENANT/oauth2/v2.0/token";
constexpr const char* k_microsoft_scope = "https://outlook.office365.com/.default";
constexpr const char* k_google_url = "https://oauth2.googleapis.com/token";
constexpr const char* k_google_scope = "https://mail.google.com/";
constexpr const char* k_secret_env = "MAILPROBE_OAUTH2_CLIENT_SECRET";
constexpr const char* k_default_margin = "300";
constexpr const char* k_default_client_auth = "post";

bool client_wanted(const ParsedOptions& p) {
    return p.has("oauth2-provider") || p.has("oauth2-token-url");
}

// Tenant names and GUIDs go into the endpoint's path: nothing else may.
void check_tenant(const std::string& tenant) {
    if (tenant.empty() || tenant.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRST"
                                                   "UVWXYZ0123456789.-_") != std::string::npos) {
        throw UsageError("--oauth2-tenant: '" + tenant +
                         "' is not a tenant ID or domain (letters, digits, '.', '-', '_')");
    }
}

// The endpoint URL and default scope of --oauth2-provider (generic: --oauth2-token-url).
std::pair<std::string, std::string> provider_endpoint(const ParsedOptions& p) {
    const std::string provider = p.get_or("oauth2-provider", "generic");
    auto url = p.get("oauth2-token-url");
    if (provider == "microsoft") {
        std::string endpoint = k_microsoft_url;
        if (!url) {
            auto tenant = p.get("oauth2-tenant");
            if (!tenant) throw UsageError("--oauth2-provider microsoft needs --oauth2-tenant ID");
            check_tenant(*tenant);
            endpoint.replace(endpoint.find("TENANT"), 6, *tenant);
        }
        return {url.value_or(endpoint), k_microsoft_scope};
    }
    if (p.has("oauth2-tenant"))
        throw UsageError("--oauth2-tenant needs --oauth2-provider microsoft");
    if (provider == "google") return {url.value_or(k_google_url), k_google_scope};
    if (provider != "generic") {
        throw UsageError("--oauth2-provider: '" + provider +
                         "' is not one of microsoft, google, generic");
    }
    if (!url) throw UsageError("--oauth2-provider generic needs --oauth2-token-url URL");
    return {*url, ""};
}

std::shared_ptr<oauth2::TokenSource> client_source(const ParsedOptions& p, const std::string& user,
                                                   std::vector<std::string>& warnings) {
    auto [url, default_scope] = provider_endpoint(p);
    if (auto problem = oauth2::token_url_problem(url)) {
        throw UsageError("--oauth2-token-url: " + *problem);
    }
    oauth2::ClientSettings settings;
    settings.endpoint.url = url;
    settings.endpoint.cacert = p.get("oauth2-cacert");
    settings.key = {url, "", p.get_or("oauth2-scope", default_scope), ""};
    settings.state_dir = p.get("state-dir");
    settings.cache_margin_s = static_cast<std::int64_t>(
        p.seconds("oauth2-token-cache-margin").value_or(std::stod(k_default_margin)));
    // A certificate, service account or refresh token, else the client secret.
    if (auto grant = oauth2_credential_grant(p, settings.key, user, warnings)) {
        return std::make_shared<oauth2::EndpointTokenSource>(std::move(settings), std::move(grant));
    }
    auto client_id = p.get("oauth2-client-id");
    if (!client_id || client_id->empty())
        throw UsageError("the OAuth2 client needs --oauth2-client-id ID");
    auto secret = read_secret(p, "oauth2-client-secret", k_secret_env, warnings);
    if (!secret) {
        throw UsageError(
            "the OAuth2 client needs a client secret: --oauth2-client-secret-file "
            "FILE or " +
            std::string(k_secret_env) +
            " (or --oauth2-client-certificate, --oauth2-service-account, "
            "--oauth2-refresh-token-file)");
    }
    const std::string auth = p.get_or("oauth2-client-auth", k_default_client_auth);
    if (auth != "post" && auth != "basic")
        throw UsageError("--oauth2-client-auth: '" + auth + "' is not post or basic");
    settings.key.client_id = *client_id;
    auto grant = std::make_unique<oauth2::ClientSecretGrant>(*client_id, *secret,
                                                             settings.key.scope, auth == "basic");
    return std::make_shared<oauth2::EndpointTokenSource>(std::move(settings), std::move(grant));
}

}  // namespace

std::string option_prefix(Side side) {
    return side == Side::smtp ? "smtp" : "mailbox";
}

void add_token_options(OptionSet& o, Side side) {
    const std::string prefix = option_prefix(side);
    o.value(prefix + "-token-file", 0, "FILE",
            "Read the OAuth2 access token for --" + prefix +
                "-auth-mech XOAUTH2|OAUTHBEARER from FILE (first line; keep it mode 0600). Or "
                "set " +
                env_name(side))
        .value(prefix + "-token-command", 0, "COMMAND",
               "Run COMMAND (without a shell, within -t) and use the first line of its output as "
               "the OAuth2 access token, when neither --" +
                   prefix + "-token-file nor " + env_name(side) + " gives one");
}

void add_oauth2_client_options(OptionSet& o) {
    o.section("OAuth2 client options")
        .value("oauth2-provider", 0, "PROVIDER",
               "Get the access token for XOAUTH2/OAUTHBEARER from this provider's token endpoint "
               "(client credentials grant) when no token file, variable or command gives one: "
               "microsoft, google or generic (needs --oauth2-token-url)")
        .value("oauth2-tenant", 0, "ID",
               "Microsoft Entra ID tenant (ID or domain); the endpoint is " +
                   std::string(k_microsoft_url))
        .value("oauth2-token-url", 0, "URL",
               "Token endpoint (https://; http:// only to 127.0.0.1, localhost or [::1]); "
               "overrides the provider's. Alone it means --oauth2-provider generic")
        .value("oauth2-client-id", 0, "ID", "OAuth2 client (application) ID")
        .value("oauth2-scope", 0, "SCOPE", "Scope to ask for",
               std::string(k_microsoft_scope) + " (microsoft), " + k_google_scope + " (google)")
        .value("oauth2-client-secret-file", 0, "FILE",
               "Read the OAuth2 client secret from FILE (one line, at most 64 KiB; keep it mode "
               "0600). Or set " +
                   std::string(k_secret_env))
        .value("oauth2-client-auth", 0, "METHOD",
               "How the client secret is sent: post (in the form, client_secret_post) or basic "
               "(HTTP basic authentication, client_secret_basic)",
               k_default_client_auth)
        .value("oauth2-cacert", 0, "FILE",
               "Trust the CA certificates in FILE (PEM) for the token endpoint instead of the "
               "system store")
        .value("oauth2-token-cache-margin", 0, "SECONDS",
               "Use a cached access token (kept in the state directory, 0600) until this long "
               "before it expires",
               k_default_margin);
    add_oauth2_credential_options(o);
}

void share_oauth2_client(const std::optional<curl::Credentials>& smtp, curl::Credentials& mailbox) {
    if (!smtp) return;
    auto* ours = dynamic_cast<oauth2::EndpointTokenSource*>(smtp->token_source.get());
    auto* theirs = dynamic_cast<oauth2::EndpointTokenSource*>(mailbox.token_source.get());
    if (!ours || !theirs) return;
    const auto& a = ours->settings().key;
    const auto& b = theirs->settings().key;
    if (a.token_url == b.token_url && a.client_id == b.client_id && a.scope == b.scope &&
        a.subject == b.subject)
        mailbox.token_source = smtp->token_source;
}

void require_oauth2_client_use(const ParsedOptions& p,
                               std::initializer_list<const curl::Credentials*> sides) {
    const auto given = p.given_with_prefix("oauth2-");
    if (given.empty()) return;
    for (const auto* cred : sides) {
        if (cred && dynamic_cast<const oauth2::EndpointTokenSource*>(cred->token_source.get()))
            return;
    }
    throw UsageError("--" + given.front() +
                     ": no login uses the OAuth2 client (it needs --mailbox-auth-mech or "
                     "--smtp-auth-mech XOAUTH2 or OAUTHBEARER, and no token file, token "
                     "variable or token command)");
}

std::optional<curl::Credentials> bearer_credentials(const ParsedOptions& p, Side side,
                                                    const std::string& user,
                                                    std::vector<std::string>& warnings) {
    const std::string prefix = option_prefix(side);
    const std::string mech_option = prefix + "-auth-mech";
    const std::string env = env_name(side);
    const std::string mech_text = p.get_or(mech_option, "");
    const auto mech = oauth2::parse_mechanism(mech_text);
    const std::string mech_name = mech ? oauth2::mechanism_name(*mech) : "";
    auto file = p.get(prefix + "-token-file");
    auto command = p.get(prefix + "-token-command");
    if (mech_name.empty()) {
        if (file || command) {
            throw UsageError("--" + prefix + (file ? "-token-file" : "-token-command") +
                             " needs --" + mech_option + " XOAUTH2 or OAUTHBEARER");
        }
        return std::nullopt;
    }
    if (user.empty()) {
        throw UsageError("--" + mech_option + " " + mech_name + " needs --" + prefix + "-user");
    }
    std::string token;
    std::string source;
    if (file) {
        token = state::read_named_secret(*file, state::secret_file_what, state::Ownership::any,
                                         state::Layout::line, warnings);
        source = "--" + prefix + "-token-file " + *file;
    } else if (const char* value = std::getenv(env.c_str()); value && *value) {
        token = value;
        source = env;
    } else if (command) {
        auto argv = process::split_command(*command);
        if (argv.empty()) throw UsageError("--" + prefix + "-token-command: empty command");
        curl::Credentials cred{user, "", curl::AuthKind::bearer, mech_name, nullptr};
        cred.token_source = std::make_shared<oauth2::CommandTokenSource>(
            std::move(argv), side == Side::smtp ? "SMTP" : "mailbox");
        return cred;
    } else if (client_wanted(p)) {
        return curl::Credentials{user, "", curl::AuthKind::bearer, mech_name,
                                 client_source(p, user, warnings)};
    } else {
        throw UsageError("--" + mech_option + " " + mech_name + " needs a token: --" + prefix +
                         "-token-file FILE, " + env + ", --" + prefix +
                         "-token-command or the OAuth2 client (--oauth2-provider)");
    }
    secrets::register_secret(token);
    check_token(token, source);
    return curl::Credentials{user, token, curl::AuthKind::bearer, mech_name, nullptr};
}

}  // namespace mailprobe
