#pragma once
// The grants of the built-in client that sign or rotate: client credentials with a
// certificate (RFC 7523 section 2.2 client assertion), a Google service account's JWT bearer
// grant (RFC 7523 section 2.1), and the refresh-token grant that keeps a rotated token.
#include <memory>
#include <optional>
#include <string>

#include "oauth2/client_certificate.hpp"
#include "oauth2/client_source.hpp"
#include "oauth2/service_account.hpp"

namespace mailprobe::oauth2 {

class CertificateGrant final : public Grant {
public:
    CertificateGrant(std::shared_ptr<const ClientCertificate> cert, std::string client_id,
                     std::string token_url, std::string scope);
    // A fresh assertion (new jti, iat) for every request.
    FormFields fields() const override;

private:
    std::shared_ptr<const ClientCertificate> m_cert;
    std::string m_client_id;
    std::string m_token_url;
    std::string m_scope;
};

class ServiceAccountGrant final : public Grant {
public:
    // subject: the mailbox to impersonate (domain-wide delegation).
    ServiceAccountGrant(std::shared_ptr<const ServiceAccount> account, std::string scope,
                        std::string subject);
    FormFields fields() const override;

private:
    std::shared_ptr<const ServiceAccount> m_account;
    std::string m_scope;
    std::string m_subject;
};

class RefreshTokenGrant final : public Grant {
public:
    // secret: the client secret, for clients that have one.
    RefreshTokenGrant(std::string path, std::string client_id, std::optional<std::string> secret,
                      std::string scope);
    // Reads the file again (under the cache lock): another run may have rotated it.
    FormFields fields() const override;
    // A rotated refresh token replaces the file's.
    void on_reply(const TokenReply& reply) override;

private:
    std::string m_path;
    std::string m_client_id;
    std::optional<std::string> m_secret;
    std::string m_scope;
};

}  // namespace mailprobe::oauth2
