#pragma once
// Reading back the JWTs the OAuth2 modules sign: the parts decoded, the signature checked
// with OpenSSL as a token endpoint would.
#include <openssl/evp.h>

#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/base64.hpp"
#include "oauth2/openssl_handles.hpp"

namespace mailprobe::test {

struct DecodedJwt {
    nlohmann::json header;
    nlohmann::json claims;
    std::string signing_input;  // header "." payload, as signed
    std::string signature;      // raw bytes
};

inline DecodedJwt decode_jwt(const std::string& jwt) {
    auto first = jwt.find('.');
    auto second = jwt.find('.', first + 1);
    BOOST_REQUIRE(first != std::string::npos && second != std::string::npos);
    BOOST_REQUIRE(jwt.find('.', second + 1) == std::string::npos);
    auto header = base64url_decode(jwt.substr(0, first));
    auto claims = base64url_decode(jwt.substr(first + 1, second - first - 1));
    auto signature = base64url_decode(jwt.substr(second + 1));
    BOOST_REQUIRE(header && claims && signature);
    return {nlohmann::json::parse(*header), nlohmann::json::parse(*claims), jwt.substr(0, second),
            *signature};
}

// Whether the RS256 signature verifies with `key` (its public half).
inline bool rs256_verifies(const DecodedJwt& jwt, EVP_PKEY* key) {
    oauth2::MdCtxPtr ctx(EVP_MD_CTX_new());
    BOOST_REQUIRE(ctx);
    BOOST_REQUIRE(EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) == 1);
    return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(jwt.signature.data()),
                            jwt.signature.size(),
                            reinterpret_cast<const unsigned char*>(jwt.signing_input.data()),
                            jwt.signing_input.size()) == 1;
}

// The form field `name`; fails the test when it is missing.
inline std::string field(const std::vector<std::pair<std::string, std::string>>& fields,
                         const std::string& name) {
    for (const auto& [key, value] : fields) {
        if (key == name) return value;
    }
    BOOST_ERROR("no form field " << name);
    return "";
}

}  // namespace mailprobe::test
