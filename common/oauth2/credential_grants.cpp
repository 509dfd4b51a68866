#include "oauth2/credential_grants.hpp"

#include "core/secrets.hpp"
#include "oauth2/jwt.hpp"
#include "oauth2/refresh_token.hpp"

namespace mailprobe::oauth2 {

namespace {

// The assertion is a credential for its lifetime: scrubbed from every output like a password.
FormFields registered(FormFields fields, const char* secret_field) {
    for (const auto& [name, value] : fields) {
        if (name == secret_field) secrets::register_secret(value);
    }
    return fields;
}

}  // namespace

CertificateGrant::CertificateGrant(std::shared_ptr<const ClientCertificate> cert,
                                   std::string client_id, std::string token_url, std::string scope)
    : m_cert(std::move(cert)),
      m_client_id(std::move(client_id)),
      m_token_url(std::move(token_url)),
      m_scope(std::move(scope)) {}

FormFields CertificateGrant::fields() const {
    FormFields f{{"grant_type", "client_credentials"}, {"client_id", m_client_id}};
    if (!m_scope.empty()) f.emplace_back("scope", m_scope);
    for (auto& field :
         registered(client_assertion_fields(*m_cert, m_client_id, m_token_url, unix_now()),
                    "client_assertion")) {
        f.push_back(std::move(field));
    }
    return f;
}

ServiceAccountGrant::ServiceAccountGrant(std::shared_ptr<const ServiceAccount> account,
                                         std::string scope, std::string subject)
    : m_account(std::move(account)), m_scope(std::move(scope)), m_subject(std::move(subject)) {}

FormFields ServiceAccountGrant::fields() const {
    return registered(service_account_grant_fields(*m_account, m_scope, m_subject, unix_now()),
                      "assertion");
}

RefreshTokenGrant::RefreshTokenGrant(std::string path, std::string client_id,
                                     std::optional<std::string> secret, std::string scope)
    : m_path(std::move(path)),
      m_client_id(std::move(client_id)),
      m_secret(std::move(secret)),
      m_scope(std::move(scope)) {}

FormFields RefreshTokenGrant::fields() const {
    std::vector<std::string> ignored;  // the options already noted a readable file
    std::string token = read_refresh_token(m_path, ignored);
    secrets::register_secret(token);
    FormFields f = refresh_token_grant_fields(token, m_scope);
    f.emplace_back("client_id", m_client_id);
    if (m_secret) f.emplace_back("client_secret", *m_secret);
    return f;
}

void RefreshTokenGrant::on_reply(const TokenReply& reply) {
    if (reply.refresh_token) store_rotated_refresh_token(m_path, *reply.refresh_token);
}

}  // namespace mailprobe::oauth2
