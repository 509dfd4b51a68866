#pragma once
// JWS compact serialization signed RS256 (RFC 7515, RFC 7518 section 3.3) for the signed
// assertions of RFC 7523: a client certificate's client_assertion and a Google service
// account's JWT bearer grant. Signing only; the token endpoint verifies.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "oauth2/openssl_handles.hpp"

namespace mailprobe::oauth2 {

// An RSA private key. The PEM text is never kept nor shown in messages.
class PrivateKey {
public:
    // Unencrypted PEM (PKCS#8 "PRIVATE KEY" or PKCS#1 "RSA PRIVATE KEY"). UsageError naming
    // `source` (e.g. "client key /etc/mailprobe/app.key") when it is no such key, is
    // encrypted (nothing ever prompts for a pass phrase), or is not RSA (RS256 needs RSA).
    static PrivateKey from_pem(std::string_view pem, const std::string& source);

    EVP_PKEY* get() const { return m_key.get(); }

private:
    explicit PrivateKey(PkeyPtr key) : m_key(std::move(key)) {}
    PkeyPtr m_key;
};

// BASE64URL(header) "." BASE64URL(payload) "." BASE64URL(RSASSA-PKCS1-v1_5 SHA-256 signature)
// over the exact bytes given (RFC 7515 Appendix A.2 signs a payload with CR LF in it).
std::string sign_rs256_compact(std::string_view header_json, std::string_view payload_json,
                               const PrivateKey& key);

// The same for JSON objects; "alg":"RS256" is added to the header.
std::string sign_rs256_jwt(nlohmann::json header, const nlohmann::json& claims,
                           const PrivateKey& key);

// A fresh random identifier for "jti" (RFC 7519 4.1.7), formatted as a GUID since Entra ID
// documents jti as one.
std::string random_jti();

// Seconds since the epoch, for iat/nbf/exp.
std::int64_t unix_now();

}  // namespace mailprobe::oauth2
