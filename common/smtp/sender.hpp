#pragma once
// Submits one message over SMTP (libcurl) and reports each stage's timing and the
// server's words. Used by every plugin that sends a probe.
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/deadline.hpp"
#include "curl/connection.hpp"

namespace mailprobe::smtp {

struct ServerConfig {
    curl::Endpoint endpoint;  // protocol SMTP
    curl::TlsOptions tls;
    std::optional<curl::Credentials> auth;
    std::string helo;
};

struct Envelope {
    std::string from;
    std::vector<std::string> to;
};

// Why a submission failed, so that a caller can try the next MX host or retry later.
class SendError : public CheckFailure {
public:
    enum class Kind { connect, temporary, permanent, other };
    SendError(Kind kind, const CheckFailure& failure) : CheckFailure(failure), m_kind(kind) {}
    Kind kind() const { return m_kind; }

private:
    Kind m_kind;
};

struct SendOutcome {
    double connect_s = 0;
    double tls_s = 0;          // 0 when no TLS was used
    double transaction_s = 0;  // start until the end-of-data reply
    double total_s = 0;
    std::string reply;     // the end-of-data reply, e.g. "250 2.0.0 Ok: queued as 4F1..."
    std::string queue_id;  // parsed from reply, may be empty
    std::chrono::steady_clock::time_point accepted_at;
    std::int64_t accepted_unix_ms = 0;
    std::vector<std::string> transcript;          // redacted, for -vvv
    std::optional<curl::CertExpiry> certificate;  // the server's, when TLS was used
};

// Throws SendError: CRITICAL for refusals (5xx) and connection problems, WARNING
// "deferred" for temporary (4xx) replies.
// before_data, when given, runs as the message body is about to be sent (the envelope is
// already accepted) and may hold it back until the receiving side is ready; returning
// false aborts the transaction, so that no probe is sent.
SendOutcome send_message(const ServerConfig& server, const Envelope& envelope,
                         const std::string& message, const Deadline& deadline,
                         const std::function<bool()>& before_data = {});

// "250 2.0.0 Ok: queued as 4F1C2A" -> "4F1C2A"; also Exim "id=..." and Exchange forms.
std::string parse_queue_id(const std::string& reply);

}  // namespace mailprobe::smtp
