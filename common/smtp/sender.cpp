#include "smtp/sender.hpp"

#include <cstring>
#include <regex>

#include "curl/watchdog.hpp"
#include "oauth2/sasl.hpp"
#include "probe/probe.hpp"
#include "result/perfdata.hpp"
#include "smtp/auth_guard.hpp"
#include "smtp/bearer_sender.hpp"

namespace mailprobe::smtp {

namespace {

struct Upload {
    const std::string* data;
    const std::function<bool()>* before_data;
    const AuthGuard* auth_guard = nullptr;  // set when AUTH is required
    std::size_t offset = 0;
    bool aborted = false;
    bool unauthenticated = false;
};

size_t read_callback(char* buffer, size_t size, size_t nitems, void* user) {
    auto* up = static_cast<Upload*>(user);
    // Second line of defence behind the guard's cut: never send the body unauthenticated.
    if (up->offset == 0 && up->auth_guard && !up->auth_guard->authenticated()) {
        up->unauthenticated = true;
        return CURL_READFUNC_ABORT;
    }
    if (up->offset == 0 && up->before_data && *up->before_data && !up->aborted) {
        if (!(*up->before_data)()) {
            up->aborted = true;
            return CURL_READFUNC_ABORT;
        }
    }
    size_t room = size * nitems;
    size_t n = std::min(room, up->data->size() - up->offset);
    // A byte buffer for libcurl, not a C string: no terminator wanted.
    // NOLINTNEXTLINE(bugprone-not-null-terminated-result)
    std::memcpy(buffer, up->data->data() + up->offset, n);
    up->offset += n;
    return n;
}

// A 4xx/5xx reply in the transcript means the server refused a stage: report its words.
std::optional<SendError> refusal(const curl::Transcript& t) {
    const std::string& reply = t.last_reply();
    if (reply.size() < 3 || (reply[0] != '4' && reply[0] != '5')) return std::nullopt;
    std::string cmd = t.last_command();
    if (cmd.empty()) cmd = "greeting";
    if (cmd.starts_with("DATA") && !t.data_reply().empty()) cmd = "message (end of DATA)";
    if (cmd.starts_with("MAIL FROM:")) cmd = "MAIL FROM " + cmd.substr(10);
    if (cmd.starts_with("RCPT TO:")) cmd = "RCPT TO " + cmd.substr(8);
    if (reply[0] == '4') {
        return SendError(SendError::Kind::temporary,
                         CheckFailure(Status::warning, cmd + " deferred: " + reply));
    }
    std::string hint = oauth2::explain_auth_refusal(reply, curl::Protocol::smtp, false);
    return SendError(SendError::Kind::permanent,
                     CheckFailure(Status::critical,
                                  cmd + " rejected: " + reply + (hint.empty() ? "" : "; " + hint)));
}

[[noreturn]] void throw_send_error(CURLcode code, curl::Easy& easy,
                                   const curl::Transcript& transcript, const ServerConfig& server,
                                   const Deadline& deadline, bool aborted, bool cut_off) {
    if (aborted) throw critical("probe not sent: the mailbox side failed first");
    const curl::Credentials* cred = server.auth ? &*server.auth : nullptr;
    // A refused login is reported as such (naming the user), not as a refused command.
    if (code != CURLE_OPERATION_TIMEDOUT && code != CURLE_LOGIN_DENIED && !cut_off) {
        if (auto r = refusal(transcript)) throw *r;
    }
    bool unreachable = code == CURLE_COULDNT_CONNECT || code == CURLE_COULDNT_RESOLVE_HOST;
    throw SendError(
        unreachable ? SendError::Kind::connect : SendError::Kind::other,
        curl::transfer_failure(code, easy, transcript, server.endpoint, deadline, cred));
}

// The stages a failed transaction got through (libcurl reports 0 for those it did not reach).
std::vector<PerfDatum> completed_stages(curl::Easy& easy, const curl::Endpoint& ep) {
    std::vector<PerfDatum> out;
    double connect = easy.info_seconds(CURLINFO_CONNECT_TIME_T);
    double app = easy.info_seconds(CURLINFO_APPCONNECT_TIME_T);
    if (connect > 0) out.push_back(seconds_datum("smtp_connect", connect));
    if (connect > 0 && app > 0 && ep.tls != curl::TlsMode::none)
        out.push_back(seconds_datum("smtp_tls", std::max(0.0, app - connect)));
    return out;
}

}  // namespace

std::string parse_queue_id(const std::string& reply) {
    static const std::regex patterns[] = {
        std::regex(R"(queued as ([A-Za-z0-9]+))", std::regex::icase),
        std::regex(R"(\bid=([A-Za-z0-9-]+))", std::regex::icase),
        std::regex(R"(<([^>]+)> \[(InternalId=[^\]]*)?Hostname=)"),
        std::regex(R"(^250 2\.0\.0 ([A-Za-z0-9]+) Message accepted)")};
    std::smatch m;
    for (const auto& re : patterns) {
        if (std::regex_search(reply, m, re)) return m[1].str();
    }
    return "";
}

SendOutcome send_message(const ServerConfig& server, const Envelope& envelope,
                         const std::string& message, const Deadline& deadline,
                         const std::function<bool()>& before_data) {
    if (server.auth && server.auth->kind == curl::AuthKind::bearer) {
        // Spoken by us: libcurl 7.88 cannot be made to use the mechanism asked for.
        return send_with_bearer(server, envelope, message, deadline, before_data);
    }
    // Everything the handle points at is declared before it, so destroyed after it:
    // curl_easy_cleanup() may still close sockets and call the debug callback.
    curl::Watchdog watchdog;
    std::optional<AuthGuard> guard;
    curl::Slist resolve, rcpts;
    curl::Transcript transcript(curl::Protocol::smtp);
    curl::Easy easy;
    watchdog.attach(easy);
    transcript.attach(easy);
    const curl::Credentials* cred = server.auth ? &*server.auth : nullptr;
    // libcurl takes the EHLO name from the URL path.
    curl::apply_endpoint(easy, resolve, server.endpoint, server.tls, cred, deadline, server.helo);
    easy.set(CURLOPT_MAIL_FROM, "<" + envelope.from + ">");
    for (const auto& to : envelope.to) rcpts.append("<" + to + ">");
    easy.set(CURLOPT_MAIL_RCPT, rcpts.get());
    Upload upload{&message, &before_data};
    if (cred) {
        guard.emplace(server.endpoint.tls == curl::TlsMode::starttls, cred->mechanism);
        upload.auth_guard = &*guard;
        transcript.observe([&guard, &watchdog](bool from_server, std::string_view line) {
            if (from_server ? guard->on_server(line) : guard->on_client(line)) watchdog.cut_now();
        });
    }
    easy.set(CURLOPT_READFUNCTION, read_callback);
    easy.set(CURLOPT_READDATA, static_cast<void*>(&upload));
    easy.set(CURLOPT_UPLOAD, 1L);
    easy.set(CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(message.size()));
    // QUIT inside this transfer's time budget, not later in a cleanup nobody bounds.
    easy.set(CURLOPT_FORBID_REUSE, 1L);

    auto start = std::chrono::steady_clock::now();
    CURLcode code = CURLE_OK;
    {
        curl::Watchdog::Armed armed(watchdog, deadline);
        code = curl_easy_perform(easy.get());
    }
    auto finished = std::chrono::steady_clock::now();
    SendOutcome out;
    out.transcript.assign(transcript.lines().begin(), transcript.lines().end());
    if (guard && guard->refusal()) {
        throw transcript.explained(SendError(
            SendError::Kind::other, critical("SMTP server " + server.endpoint.display() + " " +
                                             *guard->refusal() + "; probe not sent")));
    }
    if (upload.unauthenticated) {
        throw transcript.explained(SendError(SendError::Kind::other,
                                             critical("SMTP server " + server.endpoint.display() +
                                                      " did not authenticate us; probe not sent")));
    }
    if (code != CURLE_OK) {
        try {
            throw_send_error(code, easy, transcript, server, deadline, upload.aborted,
                             watchdog.fired());
        } catch (CheckFailure& e) {
            e.add_perfdata(completed_stages(easy, server.endpoint));
            transcript.attach_to(e);
            throw;
        }
    }
    out.accepted_at = transcript.data_reply_time();
    if (out.accepted_at == std::chrono::steady_clock::time_point{}) {
        out.accepted_at = std::chrono::steady_clock::now();
    }
    out.accepted_unix_ms = probe::unix_now_ms();
    out.connect_s = easy.info_seconds(CURLINFO_CONNECT_TIME_T);
    double app = easy.info_seconds(CURLINFO_APPCONNECT_TIME_T);
    // libcurl may report CONNECT_TIME after APPCONNECT_TIME for STARTTLS: never negative
    out.tls_s = app > 0 ? std::max(0.0, app - out.connect_s) : 0;
    out.transaction_s = std::chrono::duration<double>(out.accepted_at - start).count();
    // On the same clock as transaction_s: libcurl's TOTAL_TIME starts later than `start`
    // and ends before QUIT, so it could be smaller than the transaction it contains.
    out.total_s = std::chrono::duration<double>(finished - start).count();
    out.reply = transcript.data_reply();
    out.queue_id = parse_queue_id(out.reply);
    if (server.endpoint.tls != curl::TlsMode::none)
        out.certificate = curl::server_certificate(easy);
    return out;
}

}  // namespace mailprobe::smtp
