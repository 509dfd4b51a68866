#pragma once
// The built-in OAuth2 client (issue 13): a token from the provider's token endpoint, kept
// in the token cache of the state directory. One source serves both sides of a round trip.
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "oauth2/token_cache.hpp"
#include "oauth2/token_endpoint.hpp"
#include "oauth2/token_source.hpp"

namespace mailprobe::oauth2 {

// What one grant sends (RFC 6749 4.4 client credentials; RFC 7523 JWT bearer; refresh).
class Grant {
public:
    virtual ~Grant() = default;
    // The form of one token request (JWT grants sign a fresh assertion each time).
    virtual FormFields fields() const = 0;
    virtual std::optional<BasicClientAuth> basic_auth() const { return std::nullopt; }
    // Sees each successful reply (e.g. to keep a rotated refresh token).
    virtual void on_reply(const TokenReply& /*reply*/) {}
};

// Client credentials with a client secret, sent in the form (client_secret_post) or as
// HTTP basic authentication (client_secret_basic).
class ClientSecretGrant final : public Grant {
public:
    ClientSecretGrant(std::string client_id, std::string secret, std::string scope, bool basic);
    FormFields fields() const override;
    std::optional<BasicClientAuth> basic_auth() const override;

private:
    std::string m_client_id;
    std::string m_secret;
    std::string m_scope;
    bool m_basic;
};

struct ClientSettings {
    TokenEndpoint endpoint;
    CacheKey key;
    std::optional<std::string> state_dir;  // --state-dir; nullopt: the per-user default
    std::int64_t cache_margin_s = 300;
};

class EndpointTokenSource final : public TokenSource {
public:
    EndpointTokenSource(ClientSettings settings, std::unique_ptr<Grant> grant);
    std::string token(const Deadline& deadline) override;
    std::optional<std::string> replace_refused(const std::string& refused,
                                               const Deadline& deadline) override;
    const ClientSettings& settings() const { return m_settings; }

private:
    std::string acquire(const Deadline& deadline, const std::string& refused);

    ClientSettings m_settings;
    std::unique_ptr<Grant> m_grant;
    std::mutex m_mutex;
    std::optional<std::string> m_token;
    bool m_replaced = false;
};

// Seconds this run spent getting a token from an endpoint (0: the cache served), for the
// perfdata oauth2_token_time; nullopt when no built-in client ran.
std::optional<double> token_time_s();

}  // namespace mailprobe::oauth2
