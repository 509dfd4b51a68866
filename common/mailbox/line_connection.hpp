#pragma once
// A logged-in IMAP or POP3 connection that we speak line by line ourselves: libcurl does
// the connect, STARTTLS/TLS and SASL login (CURLOPT_CONNECT_ONLY), then hands us the
// socket through curl_easy_send/recv. Needed for IMAP IDLE and for exact control of
// what is deleted. Every wait is bounded by a deadline and names its stage.
#include <optional>
#include <string>
#include <string_view>

#include "core/deadline.hpp"
#include "curl/connection.hpp"
#include "curl/transcript.hpp"
#include "curl/watchdog.hpp"

namespace mailprobe::mailbox {

struct LoginTimes {
    double connect_s = 0;
    double tls_s = 0;
    double login_s = 0;  // greeting, capabilities, STARTTLS and authentication
    std::optional<curl::CertExpiry> certificate;  // the server's, when TLS was used
};

class LineConnection {
public:
    static constexpr std::size_t k_max_line = 1 << 20;  // a longer line is hostile

    // path: the URL path (SMTP: the EHLO name).
    LineConnection(curl::Endpoint endpoint, curl::TlsOptions tls, curl::Credentials credentials,
                   std::string path = "");

    LoginTimes open(const Deadline& deadline);

    void send_line(std::string_view line, const Deadline& deadline, std::string_view stage);
    // Bytes as they are, kept out of the transcript (an SMTP message body).
    void send_raw(std::string_view data, const Deadline& deadline, std::string_view stage);
    // One line without its CRLF. Throws CheckFailure on timeout, close or an overlong line.
    std::string read_line(const Deadline& deadline, std::string_view stage);
    std::string read_bytes(std::size_t count, const Deadline& deadline, std::string_view stage);
    // True when a line (or part of one) can be read before `until`; false on timeout.
    bool wait_readable(const Deadline& until);

    // For the bearer-token login (oauth2/bearer_login.cpp) and the sessions' transcripts.
    const curl::Endpoint& endpoint() const { return m_endpoint; }
    const curl::Credentials& credentials() const { return m_credentials; }
    curl::Transcript& transcript() { return m_transcript; }
    // A CRITICAL carrying this conversation's transcript (for -vvv): every failure raised
    // on the connection, here or by the session spoken over it, is made by this.
    CheckFailure failure(const std::string& message) const;

private:
    // Reads what is available into m_buffer; waits at most until the deadline.
    void fill(const Deadline& deadline, std::string_view stage);
    bool try_recv();  // non-blocking; false when nothing was available
    // bearer_login, and once more with a fresh token when the source has one.
    void login_with_token(const Deadline& deadline);
    [[noreturn]] void fail_timeout(const Deadline& deadline, std::string_view stage) const;
    std::string name() const { return curl::protocol_name(m_endpoint.protocol); }  // "IMAP"

    curl::Endpoint m_endpoint;
    curl::TlsOptions m_tls;
    curl::Credentials m_credentials;
    std::string m_path;
    // Declared before the handle, so destroyed after it: curl_easy_cleanup() may still close
    // the socket the watchdog watches and report to the transcript's debug callback.
    curl::Watchdog m_watchdog;
    curl::Slist m_resolve;
    curl::Transcript m_transcript;
    curl::Easy m_easy;
    curl_socket_t m_socket = CURL_SOCKET_BAD;
    std::string m_buffer;
    bool m_closed = false;
};

}  // namespace mailprobe::mailbox
