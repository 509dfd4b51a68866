#pragma once
// A client certificate and its private key (Entra ID app "certificate credential"): loaded
// and matched once at option parsing, then the RFC 7523 section 2.2 client_assertion that
// replaces a client secret in a token request.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "curl/certinfo.hpp"
#include "oauth2/jwt.hpp"
#include "oauth2/token_endpoint.hpp"

namespace mailprobe::oauth2 {

struct ClientCertificate {
    PrivateKey key;
    std::string x5t;         // base64url SHA-1 of the DER certificate (RFC 7515 4.1.7)
    std::string x5t_s256;    // base64url SHA-256 of it (RFC 7515 4.1.8)
    std::int64_t not_after;  // Unix seconds
    std::string subject;     // one line, for messages
};

// The first certificate of `certificate_pem` and the key of `key_pem`. UsageError naming the
// file when either is no PEM certificate/key, or the key does not belong to the certificate.
ClientCertificate parse_client_certificate(const std::string& certificate_pem,
                                           const std::string& certificate_path,
                                           const std::string& key_pem, const std::string& key_path);

// Reads both files: the key as a secret (bounded, a note in `warnings` when group or others
// may read it), then parse_client_certificate().
ClientCertificate load_client_certificate(const std::string& certificate_path,
                                          const std::string& key_path,
                                          std::vector<std::string>& warnings);

inline constexpr const char* k_client_assertion_type =
    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

// How long a client assertion is valid: long enough for a slow token endpoint, short enough
// that a captured one is soon useless.
inline constexpr std::int64_t k_client_assertion_lifetime = 300;

// client_assertion_type and client_assertion: a JWT with iss = sub = client_id,
// aud = token_url, a random jti, nbf = iat = now, exp = now + 5 min, signed RS256 with
// x5t and x5t#S256 in its header (Entra ID finds the certificate by them).
FormFields client_assertion_fields(const ClientCertificate& cert, const std::string& client_id,
                                   const std::string& token_url, std::int64_t now);

// The client certificate this run's options loaded, for --cert-days (process-wide, like the
// run's secrets: the options load it once, the result tree reports it once).
void note_loaded_client_certificate(const ClientCertificate& cert);
std::optional<curl::CertExpiry> loaded_client_certificate();

}  // namespace mailprobe::oauth2
