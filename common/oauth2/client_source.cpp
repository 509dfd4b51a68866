#include "oauth2/client_source.hpp"

#include <chrono>

#include "core/duration.hpp"
#include "result/failure.hpp"
#include "state/store.hpp"

namespace mailprobe::oauth2 {

namespace {

std::mutex g_time_mutex;
std::optional<double> g_token_time;

void note_token_time(double seconds) {
    std::lock_guard lock(g_time_mutex);
    g_token_time = g_token_time.value_or(0) + seconds;
}

std::int64_t unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace

std::optional<double> token_time_s() {
    std::lock_guard lock(g_time_mutex);
    return g_token_time;
}

ClientSecretGrant::ClientSecretGrant(std::string client_id, std::string secret, std::string scope,
                                     bool basic)
    : m_client_id(std::move(client_id)),
      m_secret(std::move(secret)),
      m_scope(std::move(scope)),
      m_basic(basic) {}

FormFields ClientSecretGrant::fields() const {
    FormFields f{{"grant_type", "client_credentials"}};
    if (!m_scope.empty()) f.emplace_back("scope", m_scope);
    if (!m_basic) {
        f.emplace_back("client_id", m_client_id);
        f.emplace_back("client_secret", m_secret);
    }
    return f;
}

std::optional<BasicClientAuth> ClientSecretGrant::basic_auth() const {
    if (!m_basic) return std::nullopt;
    return BasicClientAuth{m_client_id, m_secret};
}

EndpointTokenSource::EndpointTokenSource(ClientSettings settings, std::unique_ptr<Grant> grant)
    : m_settings(std::move(settings)), m_grant(std::move(grant)) {}

std::string EndpointTokenSource::token(const Deadline& deadline) {
    std::lock_guard lock(m_mutex);
    if (!m_token) m_token = acquire(deadline, "");
    return *m_token;
}

std::optional<std::string> EndpointTokenSource::replace_refused(const std::string& refused,
                                                                const Deadline& deadline) {
    std::lock_guard lock(m_mutex);
    if (m_token && *m_token != refused) return m_token;  // the other side already replaced it
    if (m_replaced) return std::nullopt;                 // once per run
    m_replaced = true;
    m_token = acquire(deadline, refused);
    return m_token;
}

// Under the cache lock: a usable cached token (not the refused one), else a new one from
// the endpoint, stored for the next runs. Runs that wait here read what the first one got.
std::string EndpointTokenSource::acquire(const Deadline& deadline, const std::string& refused) {
    const auto start = std::chrono::steady_clock::now();
    const std::string who = "OAuth2 token endpoint " + m_settings.endpoint.url;
    TokenCache cache(state::StateDir::open(m_settings.state_dir).path(), m_settings.key);
    auto held = cache.lock(deadline);
    if (!held) {
        throw critical(who + ": timeout after " + human_duration(deadline.budget_s()) +
                       " waiting for another run's token request");
    }
    if (!refused.empty()) cache.drop(refused);
    if (auto cached = cache.load(); cached && cached->access_token != refused &&
                                    usable(*cached, unix_now(), m_settings.cache_margin_s)) {
        note_token_time(0);
        return cached->access_token;
    }
    TokenReply reply =
        request_token(m_settings.endpoint, m_grant->fields(), m_grant->basic_auth(), deadline);
    m_grant->on_reply(reply);
    // Without expires_in the token's life is unknown: used for this run only.
    if (reply.expires_in && *reply.expires_in > m_settings.cache_margin_s) {
        cache.store({reply.access_token, unix_now() + *reply.expires_in});
    }
    note_token_time(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    return reply.access_token;
}

}  // namespace mailprobe::oauth2
