#include "options/oauth2_grant_options.hpp"

#include "core/error.hpp"
#include "oauth2/client_certificate.hpp"
#include "oauth2/credential_grants.hpp"
#include "oauth2/refresh_token.hpp"
#include "oauth2/service_account.hpp"
#include "options/standard.hpp"

namespace mailprobe {

namespace {

constexpr const char* k_cert = "oauth2-client-certificate";
constexpr const char* k_key = "oauth2-client-key";
constexpr const char* k_account = "oauth2-service-account";
constexpr const char* k_refresh = "oauth2-refresh-token-file";
constexpr const char* k_secret_env = "MAILPROBE_OAUTH2_CLIENT_SECRET";

// At most one kind of credential: which one was meant would otherwise be a guess.
void require_one_kind(const ParsedOptions& p) {
    std::vector<std::string> given;
    if (p.has(k_cert)) given.push_back(std::string("--") + k_cert);
    if (p.has(k_account)) given.push_back(std::string("--") + k_account);
    if (p.has(k_refresh)) given.push_back(std::string("--") + k_refresh);
    if (given.size() > 1) throw UsageError(given[0] + " and " + given[1] + " exclude each other");
    if (p.has(k_cert) != p.has(k_key)) {
        throw UsageError(p.has(k_cert) ? "--oauth2-client-certificate needs --oauth2-client-key"
                                       : "--oauth2-client-key needs --oauth2-client-certificate");
    }
    bool secret = p.has("oauth2-client-secret-file") || p.has("oauth2-client-secret");
    if (secret && (p.has(k_cert) || p.has(k_account))) {
        throw UsageError(std::string("--oauth2-client-secret-file and --") +
                         (p.has(k_cert) ? k_cert : k_account) + " exclude each other");
    }
}

std::string client_id(const ParsedOptions& p, const std::string& option) {
    auto id = p.get("oauth2-client-id");
    if (!id || id->empty()) throw UsageError("--" + option + " needs --oauth2-client-id ID");
    return *id;
}

std::unique_ptr<oauth2::Grant> certificate_grant(const ParsedOptions& p, oauth2::CacheKey& key,
                                                 std::vector<std::string>& warnings) {
    key.client_id = client_id(p, k_cert);
    auto cert = std::make_shared<const oauth2::ClientCertificate>(
        oauth2::load_client_certificate(*p.get(k_cert), *p.get(k_key), warnings));
    oauth2::note_loaded_client_certificate(*cert);
    return std::make_unique<oauth2::CertificateGrant>(cert, key.client_id, key.token_url,
                                                      key.scope);
}

std::unique_ptr<oauth2::Grant> service_account_grant(const ParsedOptions& p, oauth2::CacheKey& key,
                                                     const std::string& user,
                                                     std::vector<std::string>& warnings) {
    if (p.has("oauth2-client-id")) {
        throw UsageError(
            "--oauth2-service-account names its client itself: drop --oauth2-client-id");
    }
    auto account = std::make_shared<const oauth2::ServiceAccount>(
        oauth2::load_service_account(*p.get(k_account), warnings));
    key.client_id = account->client_email;
    key.subject = user;
    return std::make_unique<oauth2::ServiceAccountGrant>(account, key.scope, user);
}

std::unique_ptr<oauth2::Grant> refresh_grant(const ParsedOptions& p, oauth2::CacheKey& key,
                                             std::vector<std::string>& warnings) {
    key.client_id = client_id(p, k_refresh);
    const std::string path = *p.get(k_refresh);
    oauth2::read_refresh_token(path, warnings);  // a wrong file is a usage error now, not later
    key.subject = "refresh-token-file " + path;  // one cached token per delegated account
    return std::make_unique<oauth2::RefreshTokenGrant>(
        path, key.client_id, read_secret(p, "oauth2-client-secret", k_secret_env, warnings),
        key.scope);
}

}  // namespace

void add_oauth2_credential_options(OptionSet& o) {
    o.value(k_cert, 0, "FILE",
            "Authenticate the OAuth2 client with this certificate (PEM) instead of a client "
            "secret: a signed client assertion (RFC 7523) as Microsoft Entra ID expects. With "
            "--cert-days its expiry counts too (perfdata oauth2_cert_days)")
        .value(k_key, 0, "FILE",
               "The private key (PEM, RSA, not encrypted; keep it mode 0600) of "
               "--oauth2-client-certificate")
        .value(k_account, 0, "FILE",
               "Google service account key file (JSON; keep it mode 0600): JWT bearer grant "
               "(RFC 7523) impersonating the mailbox user (domain-wide delegation)")
        .value(k_refresh, 0, "FILE",
               "Refresh token (one line; keep it mode 0600) for a delegated set-up: refresh-token "
               "grant; a rotated token replaces the file's atomically");
}

bool oauth2_credential_given(const ParsedOptions& p) {
    return p.has(k_cert) || p.has(k_key) || p.has(k_account) || p.has(k_refresh);
}

std::unique_ptr<oauth2::Grant> oauth2_credential_grant(const ParsedOptions& p,
                                                       oauth2::CacheKey& key,
                                                       const std::string& user,
                                                       std::vector<std::string>& warnings) {
    require_one_kind(p);
    if (p.has(k_cert)) return certificate_grant(p, key, warnings);
    if (p.has(k_account)) return service_account_grant(p, key, user, warnings);
    if (p.has(k_refresh)) return refresh_grant(p, key, warnings);
    return nullptr;
}

}  // namespace mailprobe
