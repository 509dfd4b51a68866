#include "mailbox/line_connection.hpp"

#include <poll.h>

#include <chrono>

#include "core/duration.hpp"
#include "core/sanitize.hpp"
#include "oauth2/bearer_login.hpp"
#include "oauth2/token_source.hpp"

namespace mailprobe::mailbox {

LineConnection::LineConnection(curl::Endpoint endpoint, curl::TlsOptions tls,
                               curl::Credentials credentials, std::string path)
    : m_endpoint(std::move(endpoint)),
      m_tls(std::move(tls)),
      m_credentials(std::move(credentials)),
      m_path(std::move(path)),
      m_transcript(m_endpoint.protocol) {}

CheckFailure LineConnection::failure(const std::string& message) const {
    return m_transcript.explained(critical(message));
}

LoginTimes LineConnection::open(const Deadline& deadline) {
    m_transcript.attach(m_easy);
    // A bearer token is presented by us (oauth2::bearer_login): libcurl only connects.
    const bool bearer = m_credentials.kind == curl::AuthKind::bearer;
    if (bearer && m_credentials.secret.empty() && m_credentials.token_source) {
        m_credentials.secret = m_credentials.token_source->token(deadline);
    }
    curl::apply_endpoint(m_easy, m_resolve, m_endpoint, m_tls, bearer ? nullptr : &m_credentials,
                         deadline, m_path);
    m_easy.set(CURLOPT_CONNECT_ONLY, 1L);
    m_watchdog.attach(m_easy);
    CURLcode code = CURLE_OK;
    {
        curl::Watchdog::Armed armed(m_watchdog, deadline);
        code = curl_easy_perform(m_easy.get());
    }
    if (code != CURLE_OK) {
        throw curl::transfer_failure(code, m_easy, m_transcript, m_endpoint, deadline,
                                     &m_credentials);
    }
    m_socket = m_easy.active_socket();
    if (m_socket == CURL_SOCKET_BAD) {
        throw failure(name() + " connection to " + m_endpoint.display() + " lost");
    }
    auto login_start = std::chrono::steady_clock::now();
    if (bearer) {
        try {
            login_with_token(deadline);
        } catch (CheckFailure& e) {
            m_transcript.attach_to(e);  // the refusal is explained by the exchange before it
            throw;
        }
    }
    double own_login_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - login_start).count();
    LoginTimes t;
    t.connect_s = m_easy.info_seconds(CURLINFO_CONNECT_TIME_T);
    double app = m_easy.info_seconds(CURLINFO_APPCONNECT_TIME_T);
    // libcurl may report CONNECT_TIME after APPCONNECT_TIME for STARTTLS: never negative
    t.tls_s = app > 0 ? std::max(0.0, app - t.connect_s) : 0;
    t.login_s = m_easy.info_seconds(CURLINFO_TOTAL_TIME_T) - std::max(app, t.connect_s) +
                (bearer ? own_login_s : 0);
    if (m_endpoint.tls != curl::TlsMode::none) t.certificate = curl::server_certificate(m_easy);
    return t;
}

void LineConnection::login_with_token(const Deadline& deadline) {
    try {
        oauth2::bearer_login(*this, deadline);
    } catch (const oauth2::TokenRefused&) {
        // A cached token revoked before its expiry: the built-in client drops it and gets
        // a new one, once; the server allows another AUTH on the same connection.
        auto fresh = m_credentials.token_source ? m_credentials.token_source->replace_refused(
                                                      m_credentials.secret, deadline)
                                                : std::nullopt;
        if (!fresh) throw;
        m_credentials.secret = *fresh;
        oauth2::bearer_login(*this, deadline);
    }
}

void LineConnection::fail_timeout(const Deadline& deadline, std::string_view stage) const {
    throw failure("timeout after " + human_duration(deadline.budget_s()) + " waiting for " +
                  name() + " " + std::string(stage) + " from " + m_endpoint.display());
}

void LineConnection::send_line(std::string_view line, const Deadline& deadline,
                               std::string_view stage) {
    m_transcript.on_client(line);
    send_raw(std::string(line) + "\r\n", deadline, stage);
}

void LineConnection::send_raw(std::string_view data, const Deadline& deadline,
                              std::string_view stage) {
    std::size_t sent = 0;
    while (sent < data.size()) {
        size_t n = 0;
        CURLcode code = curl_easy_send(m_easy.get(), data.data() + sent, data.size() - sent, &n);
        if (code == CURLE_AGAIN) {
            pollfd p{m_socket, POLLOUT, 0};
            int ms = static_cast<int>(std::min<std::int64_t>(deadline.remaining_ms(), 1 << 30));
            if (ms <= 0 || ::poll(&p, 1, ms) <= 0) fail_timeout(deadline, stage);
            continue;
        }
        if (code != CURLE_OK) {
            throw failure(name() + " connection to " + m_endpoint.display() +
                          " lost while sending " + std::string(stage) + ": " +
                          curl_easy_strerror(code));
        }
        sent += n;
    }
}

bool LineConnection::try_recv() {
    if (m_closed) return false;
    char buf[16384];
    size_t n = 0;
    CURLcode code = curl_easy_recv(m_easy.get(), buf, sizeof buf, &n);
    if (code == CURLE_AGAIN) return false;
    if (code != CURLE_OK || n == 0) {
        m_closed = true;
        return false;
    }
    m_buffer.append(buf, n);
    return true;
}

void LineConnection::fill(const Deadline& deadline, std::string_view stage) {
    // A server that never stops sending (a flood of untagged lines) must not outlast -t:
    // the poll below is only reached when nothing is waiting.
    if (deadline.expired()) fail_timeout(deadline, stage);
    // libcurl may hold decrypted TLS data the socket no longer shows: ask it first.
    while (!try_recv()) {
        if (m_closed) {
            throw failure(name() + " server " + m_endpoint.display() +
                          " closed the connection while we waited for " + std::string(stage));
        }
        pollfd p{m_socket, POLLIN, 0};
        int ms = static_cast<int>(std::min<std::int64_t>(deadline.remaining_ms(), 1 << 30));
        if (ms <= 0 || ::poll(&p, 1, ms) <= 0) fail_timeout(deadline, stage);
    }
}

std::string LineConnection::read_line(const Deadline& deadline, std::string_view stage) {
    std::size_t scanned = 0;
    for (;;) {
        auto eol = m_buffer.find('\n', scanned);
        if (eol != std::string::npos) {
            std::string line = m_buffer.substr(0, eol);
            m_buffer.erase(0, eol + 1);
            if (!line.empty() && line.back() == '\r') line.pop_back();
            m_transcript.on_server(line);
            return line;
        }
        scanned = m_buffer.size();
        if (m_buffer.size() > k_max_line) {
            throw failure(name() + " server " + m_endpoint.display() +
                          " sent a line longer than 1 MiB while we waited for " +
                          std::string(stage));
        }
        fill(deadline, stage);
    }
}

std::string LineConnection::read_bytes(std::size_t count, const Deadline& deadline,
                                       std::string_view stage) {
    while (m_buffer.size() < count) fill(deadline, stage);
    std::string out = m_buffer.substr(0, count);
    m_buffer.erase(0, count);
    return out;
}

bool LineConnection::wait_readable(const Deadline& until) {
    if (!m_buffer.empty() || try_recv()) return true;
    if (m_closed) return true;  // the next read reports the close
    pollfd p{m_socket, POLLIN, 0};
    int ms = static_cast<int>(std::min<std::int64_t>(until.remaining_ms(), 1 << 30));
    return ms > 0 && ::poll(&p, 1, ms) > 0;
}

}  // namespace mailprobe::mailbox
