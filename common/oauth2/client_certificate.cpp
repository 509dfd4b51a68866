#include "oauth2/client_certificate.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>

#include <ctime>
#include <mutex>
#include <stdexcept>

#include "core/base64.hpp"
#include "result/failure.hpp"
#include "state/secret_file.hpp"

namespace mailprobe::oauth2 {

namespace {

std::mutex g_loaded_mutex;
std::optional<curl::CertExpiry> g_loaded;

X509Ptr parse_certificate(const std::string& pem, const std::string& path) {
    BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    if (!bio) throw std::bad_alloc();
    X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    ERR_clear_error();
    if (!cert) throw UsageError("client certificate " + path + " holds no PEM certificate");
    return cert;
}

std::string thumbprint(X509* cert, const EVP_MD* md) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    if (X509_digest(cert, md, digest, &size) != 1) {
        ERR_clear_error();
        throw unknown("cannot compute the client certificate's thumbprint");
    }
    return base64url_encode(std::string(reinterpret_cast<const char*>(digest), size));
}

std::int64_t not_after(const X509* cert, const std::string& path) {
    std::tm tm{};
    if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) != 1) {
        ERR_clear_error();
        throw UsageError("client certificate " + path + " has an unreadable expiry date");
    }
    return static_cast<std::int64_t>(::timegm(&tm));
}

std::string subject_line(const X509* cert) {
    BioPtr bio(BIO_new(BIO_s_mem()));
    if (!bio) throw std::bad_alloc();
    X509_NAME_print_ex(bio.get(), X509_get_subject_name(cert), 0, XN_FLAG_ONELINE);
    char* data = nullptr;
    long size = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(size));
}

}  // namespace

ClientCertificate parse_client_certificate(const std::string& certificate_pem,
                                           const std::string& certificate_path,
                                           const std::string& key_pem,
                                           const std::string& key_path) {
    X509Ptr cert = parse_certificate(certificate_pem, certificate_path);
    PrivateKey key = PrivateKey::from_pem(key_pem, "client key " + key_path);
    if (EVP_PKEY_eq(X509_get0_pubkey(cert.get()), key.get()) != 1) {
        ERR_clear_error();
        throw UsageError("client key " + key_path + " does not belong to client certificate " +
                         certificate_path);
    }
    return ClientCertificate{std::move(key), thumbprint(cert.get(), EVP_sha1()),
                             thumbprint(cert.get(), EVP_sha256()),
                             not_after(cert.get(), certificate_path), subject_line(cert.get())};
}

ClientCertificate load_client_certificate(const std::string& certificate_path,
                                          const std::string& key_path,
                                          std::vector<std::string>& warnings) {
    // The certificate is public, but read by the same rules.
    std::string cert_pem = state::read_named_file(certificate_path, "client certificate",
                                                  state::Ownership::any, state::Layout::document)
                               .value;
    std::string key_pem = state::read_named_secret(key_path, "client key", state::Ownership::any,
                                                   state::Layout::document, warnings);
    return parse_client_certificate(cert_pem, certificate_path, key_pem, key_path);
}

FormFields client_assertion_fields(const ClientCertificate& cert, const std::string& client_id,
                                   const std::string& token_url, std::int64_t now) {
    nlohmann::json header = {{"typ", "JWT"}, {"x5t", cert.x5t}, {"x5t#S256", cert.x5t_s256}};
    nlohmann::json claims = {{"iss", client_id},
                             {"sub", client_id},
                             {"aud", token_url},
                             {"jti", random_jti()},
                             {"nbf", now},
                             {"iat", now},
                             {"exp", now + k_client_assertion_lifetime}};
    return {{"client_assertion_type", k_client_assertion_type},
            {"client_assertion", sign_rs256_jwt(std::move(header), claims, cert.key)}};
}

void note_loaded_client_certificate(const ClientCertificate& cert) {
    std::lock_guard lock(g_loaded_mutex);
    g_loaded = curl::CertExpiry{cert.not_after, cert.subject};
}

std::optional<curl::CertExpiry> loaded_client_certificate() {
    std::lock_guard lock(g_loaded_mutex);
    return g_loaded;
}

}  // namespace mailprobe::oauth2
