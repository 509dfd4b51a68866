#include "oauth2/jwt.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include <chrono>
#include <cstdio>
#include <stdexcept>

#include "core/base64.hpp"
#include "result/failure.hpp"

namespace mailprobe::oauth2 {

namespace {

// Refuses to ask for a pass phrase: a check runs unattended, and a prompt on a terminal
// would hang it.
int no_passphrase(char* /*buf*/, int /*size*/, int /*rwflag*/, void* /*userdata*/) {
    return -1;
}

bool looks_encrypted(std::string_view pem) {
    return pem.find("ENCRYPTED") != std::string_view::npos;
}

}  // namespace

PrivateKey PrivateKey::from_pem(std::string_view pem, const std::string& source) {
    BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    if (!bio) throw std::bad_alloc();
    PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr));
    ERR_clear_error();  // the reasons are OpenSSL's internals; our message says what to do
    if (!key) {
        if (looks_encrypted(pem)) {
            throw UsageError(source +
                             " is encrypted: give the key without a pass phrase "
                             "(openssl pkey -in KEY -out KEY.plain), readable only by this user");
        }
        throw UsageError(source + " holds no PEM private key");
    }
    if (EVP_PKEY_get_base_id(key.get()) != EVP_PKEY_RSA) {
        throw UsageError(source + " is not an RSA key (RS256 signing needs RSA)");
    }
    return PrivateKey(std::move(key));
}

std::string sign_rs256_compact(std::string_view header_json, std::string_view payload_json,
                               const PrivateKey& key) {
    const std::string input = base64url_encode(header_json) + "." + base64url_encode(payload_json);
    MdCtxPtr ctx(EVP_MD_CTX_new());
    if (!ctx) throw std::bad_alloc();
    std::size_t size = 0;
    bool ok =
        EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) == 1 &&
        EVP_DigestSign(ctx.get(), nullptr, &size,
                       reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
    std::string signature(size, '\0');
    ok = ok &&
         EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &size,
                        reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
    ERR_clear_error();
    if (!ok) throw unknown("cannot sign the OAuth2 assertion with the private key (RS256)");
    signature.resize(size);
    return input + "." + base64url_encode(signature);
}

std::string sign_rs256_jwt(nlohmann::json header, const nlohmann::json& claims,
                           const PrivateKey& key) {
    header["alg"] = "RS256";
    return sign_rs256_compact(header.dump(), claims.dump(), key);
}

std::string random_jti() {
    unsigned char bytes[16];
    if (RAND_bytes(bytes, sizeof bytes) != 1) {
        ERR_clear_error();
        throw unknown("no random bytes for the OAuth2 assertion's jti");
    }
    bytes[6] = static_cast<unsigned char>((bytes[6] & 0x0F) | 0x40);  // version 4
    bytes[8] = static_cast<unsigned char>((bytes[8] & 0x3F) | 0x80);  // RFC 4122 variant
    char text[37];
    std::snprintf(text, sizeof text,
                  "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", bytes[0],
                  bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7], bytes[8],
                  bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]);
    return text;
}

std::int64_t unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace mailprobe::oauth2
