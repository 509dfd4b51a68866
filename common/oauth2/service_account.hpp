#pragma once
// A Google service account's JSON key file and the RFC 7523 section 2.1 JWT bearer grant
// that, with domain-wide delegation, yields a token for the mailbox it impersonates.
#include <cstdint>
#include <string>
#include <vector>

#include "oauth2/token_endpoint.hpp"
#include "oauth2/jwt.hpp"

namespace mailprobe::oauth2 {

struct ServiceAccount {
    std::string client_email;
    std::string private_key_id;
    std::string token_uri;
    PrivateKey key;
};

// The key file's JSON. UsageError naming `path` when it is not JSON, its "type" is not
// "service_account", or client_email, private_key, private_key_id or token_uri is missing,
// empty or not a string. The private key is never quoted.
ServiceAccount parse_service_account(const std::string& json_text, const std::string& path);

// Reads the file as a secret (bounded, a note in `warnings` when group or others may read
// it), then parse_service_account().
ServiceAccount load_service_account(const std::string& path, std::vector<std::string>& warnings);

inline constexpr const char* k_jwt_bearer_grant = "urn:ietf:params:oauth:grant-type:jwt-bearer";

// Google's maximum lifetime of such an assertion.
inline constexpr std::int64_t k_service_account_assertion_lifetime = 3600;

// grant_type and assertion: a JWT with iss = client_email, scope, aud = the key file's
// token_uri, sub = the mailbox to impersonate, iat = now, exp = now + 1 h, signed RS256 with
// kid = private_key_id.
FormFields service_account_grant_fields(const ServiceAccount& account, const std::string& scope,
                                        const std::string& subject, std::int64_t now);

}  // namespace mailprobe::oauth2
