#include "curl/connection.hpp"

#include <cerrno>
#include <system_error>

#include "oauth2/sasl.hpp"

#include "core/duration.hpp"
#include "core/sanitize.hpp"

namespace mailprobe::curl {

TlsMode parse_tls_mode(const std::string& text, const std::string& option) {
    if (text == "none") return TlsMode::none;
    if (text == "starttls") return TlsMode::starttls;
    if (text == "tls") return TlsMode::tls;
    throw UsageError("--" + option + ": '" + text + "' is not one of none, starttls, tls");
}

std::string Endpoint::url(const std::string& path) const {
    std::string scheme = url_scheme(protocol) + (tls == TlsMode::tls ? "s" : "");
    bool v6 = host.find(':') != std::string::npos;
    std::string h = v6 ? "[" + host + "]" : host;
    return scheme + "://" + h + ":" + std::to_string(port) + "/" + path;
}

std::string Endpoint::display() const {
    return host + ":" + std::to_string(port);
}

void apply_endpoint(Easy& easy, Slist& resolve_list, const Endpoint& ep, const TlsOptions& tls,
                    const Credentials* cred, const Deadline& deadline, const std::string& path) {
    easy.set(CURLOPT_URL, ep.url(path));
    for (const auto& entry : ep.resolve) resolve_list.append(entry);
    if (resolve_list.get()) easy.set(CURLOPT_RESOLVE, resolve_list.get());
    // STARTTLS "required": never fall back to plain text when the server does not offer it.
    easy.set(CURLOPT_USE_SSL, ep.tls == TlsMode::starttls ? static_cast<long>(CURLUSESSL_ALL)
                                                          : static_cast<long>(CURLUSESSL_NONE));
    if (tls.cacert) easy.set(CURLOPT_CAINFO, *tls.cacert);
    easy.set(CURLOPT_SSL_VERIFYPEER, tls.insecure ? 0L : 1L);
    easy.set(CURLOPT_SSL_VERIFYHOST, tls.insecure ? 0L : 2L);
    easy.set(CURLOPT_CERTINFO, 1L);  // certificate expiry for --cert-days
    long left = std::max<long>(1, static_cast<long>(deadline.remaining_ms()));
    easy.set(CURLOPT_TIMEOUT_MS, left);
    easy.set(CURLOPT_CONNECTTIMEOUT_MS, left);
    easy.set(CURLOPT_SERVER_RESPONSE_TIMEOUT, std::max<long>(1, (left + 999) / 1000));
    if (cred) {
        easy.set(CURLOPT_USERNAME, cred->user);
        if (cred->kind == AuthKind::bearer) {
            easy.set(CURLOPT_XOAUTH2_BEARER, cred->secret);
        } else {
            easy.set(CURLOPT_PASSWORD, cred->secret);
        }
        if (!cred->mechanism.empty()) easy.set(CURLOPT_LOGIN_OPTIONS, "AUTH=" + cred->mechanism);
    }
}

namespace {

std::string stage_of(const Easy& easy, const Transcript& t, const Endpoint& ep) {
    // libcurl 7.88 sets CONNECT_TIME only once the TLS handshake is done as well.
    if (!t.connected() && easy.info_seconds(CURLINFO_CONNECT_TIME_T) <= 0) return "TCP connect";
    if (ep.tls == TlsMode::tls && easy.info_seconds(CURLINFO_APPCONNECT_TIME_T) <= 0 &&
        !t.got_server_line()) {
        return "TLS handshake";
    }
    return protocol_name(ep.protocol) + " " + t.waiting_for();
}

std::string reason(const Easy& easy, CURLcode code) {
    std::string text = easy.error_text();
    return sanitize_text(text.empty() ? curl_easy_strerror(code) : text, 200);
}

}  // namespace

std::string connect_failure_text(int os_errno, const std::string& server) {
    switch (os_errno) {
        case ECONNREFUSED:
            return "connection refused by " + server;
        case ETIMEDOUT:
            return "connection to " + server + " timed out";
        case EHOSTUNREACH:
            return "no route to " + server + " (host unreachable)";
        case ENETUNREACH:
            return "no route to " + server + " (network unreachable)";
        case 0:
            return "cannot connect to " + server;
        default:
            return "cannot connect to " + server + ": " + std::generic_category().message(os_errno);
    }
}

namespace {

CheckFailure describe_failure(CURLcode code, const Easy& easy, const Transcript& t,
                              const Endpoint& ep, const Deadline& deadline,
                              const Credentials* cred) {
    const std::string where = ep.display();
    const std::string proto = protocol_name(ep.protocol);
    // Past the deadline, the watchdog (curl/watchdog.hpp) has shut the sockets down: the
    // read or connect error that follows is the timeout.
    bool cut_off =
        deadline.expired() && (code == CURLE_RECV_ERROR || code == CURLE_SEND_ERROR ||
                               code == CURLE_GOT_NOTHING || code == CURLE_SSL_CONNECT_ERROR ||
                               code == CURLE_COULDNT_CONNECT || code == CURLE_WEIRD_SERVER_REPLY ||
                               code == CURLE_UPLOAD_FAILED || code == CURLE_PARTIAL_FILE);
    if (!t.bye().empty() && code != CURLE_OPERATION_TIMEDOUT && !cut_off) {
        return critical(proto + " server " + where + " closed the session: " + t.bye());
    }
    if (code == CURLE_OPERATION_TIMEDOUT || cut_off) {
        return critical("timeout after " + human_duration(deadline.budget_s()) + " waiting for " +
                        stage_of(easy, t, ep) + " from " + where);
    }
    switch (code) {
        case CURLE_COULDNT_RESOLVE_HOST:
            return critical("cannot resolve host " + ep.host + ": " + reason(easy, code));
        case CURLE_COULDNT_CONNECT:
            return critical(connect_failure_text(
                static_cast<int>(easy.info_long(CURLINFO_OS_ERRNO)), proto + " server " + where));
        case CURLE_PEER_FAILED_VERIFICATION:
            return critical("TLS certificate of " + where + " not trusted: " + reason(easy, code));
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_CIPHER:
            return critical("TLS handshake with " + where + " failed: " + reason(easy, code));
        case CURLE_SSL_CACERT_BADFILE:
            return unknown("cannot use CA file: " + reason(easy, code));
        case CURLE_USE_SSL_FAILED:
            return critical(proto + " server " + where +
                            " does not offer STARTTLS; not continuing without TLS");
        case CURLE_LOGIN_DENIED: {
            std::string hint = oauth2::explain_auth_refusal(t.last_reply(), ep.protocol, false);
            return critical(
                proto + " login" + (cred ? " as " + cred->user : "") + " on " + where +
                " failed: " + (t.last_reply().empty() ? reason(easy, code) : t.last_reply()) +
                (hint.empty() ? "" : "; " + hint));
        }
        case CURLE_GOT_NOTHING:
        case CURLE_RECV_ERROR:
        case CURLE_SEND_ERROR:
            return critical("connection to " + proto + " server " + where +
                            " lost while waiting for " + stage_of(easy, t, ep) + ": " +
                            reason(easy, code));
        default:
            break;
    }
    std::string last = t.last_reply().empty() ? "" : " (last reply: " + t.last_reply() + ")";
    return critical(proto + " error with " + where + ": " + reason(easy, code) + last);
}

}  // namespace

CheckFailure transfer_failure(CURLcode code, const Easy& easy, const Transcript& t,
                              const Endpoint& ep, const Deadline& deadline,
                              const Credentials* cred) {
    return t.explained(describe_failure(code, easy, t, ep, deadline, cred));
}

}  // namespace mailprobe::curl
