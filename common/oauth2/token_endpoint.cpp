#include "oauth2/token_endpoint.hpp"

#include <nlohmann/json.hpp>

#include <cctype>

#include "core/duration.hpp"
#include "core/sanitize.hpp"
#include "core/secrets.hpp"
#include "curl/connection.hpp"
#include "curl/easy.hpp"
#include "oauth2/token_source.hpp"
#include "result/failure.hpp"

namespace mailprobe::oauth2 {

namespace {

// A token reply is a few KiB; anything far larger is not one.
constexpr std::size_t k_max_reply = 64 * 1024;

std::string percent_encode(std::string_view text) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : text) {
        if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
            out += static_cast<char>(c);
        } else if (c == ' ') {
            out += '+';
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 0x0f];
        }
    }
    return out;
}

std::string lower(std::string text) {
    for (auto& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
}

std::string string_member(const nlohmann::json& reply, const char* name) {
    auto it = reply.find(name);
    return it != reply.end() && it->is_string() ? it->get<std::string>() : "";
}

// Providers send expires_in as a number, some (older Entra ID endpoints) as a string.
// Anything outside 0 s .. 10 years is not a lifetime we can use.
std::optional<long long> expires_in(const nlohmann::json& reply) {
    auto it = reply.find("expires_in");
    if (it == reply.end()) return std::nullopt;
    double seconds = -1;
    if (it->is_number()) {
        seconds = it->get<double>();
    } else if (it->is_string()) {
        const std::string text = it->get<std::string>();
        if (!text.empty() && text.size() < 12 &&
            text.find_first_not_of("0123456789") == std::string::npos)
            seconds = static_cast<double>(std::stoll(text));
    }
    if (!(seconds >= 0 && seconds <= 10.0 * 366 * 86400)) return std::nullopt;
    return static_cast<long long>(seconds);
}

// "invalid_client: AADSTS7000215: Invalid client secret provided. ..." from RFC 6749 5.2.
std::string provider_error(const nlohmann::json& reply) {
    std::string error = sanitize_text(string_member(reply, "error"), 80);
    std::string description = sanitize_text(string_member(reply, "error_description"), 300);
    if (error.empty()) return description;
    return description.empty() ? error : error + ": " + description;
}

size_t collect(char* data, size_t size, size_t count, void* user) {
    auto* body = static_cast<std::string*>(user);
    if (body->size() + size * count > k_max_reply) return 0;  // CURLE_WRITE_ERROR
    body->append(data, size * count);
    return size * count;
}

CheckFailure transfer_error(CURLcode code, const curl::Easy& easy, const std::string& who,
                            const Deadline& deadline) {
    std::string detail = sanitize_text(
        easy.error_text().empty() ? curl_easy_strerror(code) : easy.error_text(), 200);
    switch (code) {
        case CURLE_OPERATION_TIMEDOUT:
            return critical(who + ": timeout after " + human_duration(deadline.budget_s()));
        case CURLE_COULDNT_RESOLVE_HOST:
            return critical(who + ": cannot resolve host: " + detail);
        case CURLE_COULDNT_CONNECT:
            return critical(
                who + ": " +
                curl::connect_failure_text(static_cast<int>(easy.info_long(CURLINFO_OS_ERRNO)),
                                           "the token endpoint"));
        case CURLE_PEER_FAILED_VERIFICATION:
            return critical(who + ": TLS certificate not trusted: " + detail);
        case CURLE_WRITE_ERROR:
            return critical(who + ": the reply is larger than 64 KiB, not a token reply");
        default:
            return critical(who + ": " + detail);
    }
}

}  // namespace

std::string form_encode(const FormFields& fields) {
    std::string body;
    for (const auto& [name, value] : fields) {
        if (!body.empty()) body += '&';
        body += percent_encode(name) + "=" + percent_encode(value);
    }
    return body;
}

TokenReply parse_token_reply(std::string_view body, long http_status, const std::string& url) {
    const std::string who = "OAuth2 token endpoint " + url;
    const std::string status = "HTTP " + std::to_string(http_status);
    nlohmann::json reply = nlohmann::json::parse(body, nullptr, false);
    if (reply.is_discarded() || !reply.is_object()) {
        std::string shown = sanitize_text(body, 120);
        throw critical(who + ": " + status + ", not a JSON token reply" +
                       (shown.empty() ? " (empty body)" : ": " + shown));
    }
    TokenReply out;
    out.access_token = string_member(reply, "access_token");
    out.token_type = string_member(reply, "token_type");
    out.expires_in = expires_in(reply);
    if (std::string refresh = string_member(reply, "refresh_token"); !refresh.empty()) {
        secrets::register_secret(refresh);
        out.refresh_token = refresh;
    }
    if (!out.access_token.empty()) secrets::register_secret(out.access_token);
    if (http_status < 200 || http_status > 299 || reply.contains("error")) {
        std::string error = provider_error(reply);
        throw critical(who + " refused the request (" + status + ")" +
                       (error.empty() ? "" : ": " + error));
    }
    if (out.access_token.empty()) throw critical(who + ": the reply has no access_token");
    if (auto problem = token_problem(out.access_token)) {
        throw critical(who + ": unusable access_token: " + *problem);
    }
    if (!out.token_type.empty() && lower(out.token_type) != "bearer") {
        throw critical(who + ": token_type '" + sanitize_text(out.token_type, 40) +
                       "' is not Bearer");
    }
    return out;
}

TokenReply request_token(const TokenEndpoint& endpoint, const FormFields& fields,
                         const std::optional<BasicClientAuth>& basic, const Deadline& deadline) {
    const std::string who = "OAuth2 token endpoint " + endpoint.url;
    if (deadline.expired())
        throw critical(who + ": timeout after " + human_duration(deadline.budget_s()));
    // What the handle points at is declared before it, so destroyed after it.
    curl::Slist headers;
    headers.append("Accept: application/json");
    const std::string body = form_encode(fields);
    std::string reply;
    curl::Easy easy;
    easy.set(CURLOPT_URL, endpoint.url);
    easy.set(CURLOPT_PROTOCOLS_STR, "http,https");
    easy.set(CURLOPT_FOLLOWLOCATION, 0L);  // a redirect would resend the secret elsewhere
    easy.set(CURLOPT_POST, 1L);
    easy.set(CURLOPT_POSTFIELDS, body.c_str());
    easy.set(CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
    easy.set(CURLOPT_HTTPHEADER, headers.get());
    easy.set(CURLOPT_USERAGENT, "mailprobe");
    if (endpoint.cacert) easy.set(CURLOPT_CAINFO, *endpoint.cacert);
    if (basic) {
        // RFC 6749 2.3.1: id and secret are form-encoded before they go into basic auth.
        easy.set(CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BASIC));
        easy.set(CURLOPT_USERNAME, percent_encode(basic->client_id));
        easy.set(CURLOPT_PASSWORD, percent_encode(basic->client_secret));
    }
    const long left = std::max<long>(1, static_cast<long>(deadline.remaining_ms()));
    easy.set(CURLOPT_TIMEOUT_MS, left);
    easy.set(CURLOPT_CONNECTTIMEOUT_MS, left);
    easy.set(CURLOPT_WRITEFUNCTION, &collect);
    easy.set(CURLOPT_WRITEDATA, static_cast<void*>(&reply));
    CURLcode code = curl_easy_perform(easy.get());
    if (code != CURLE_OK) throw transfer_error(code, easy, who, deadline);
    return parse_token_reply(reply, easy.info_long(CURLINFO_RESPONSE_CODE), endpoint.url);
}

std::optional<std::string> token_url_problem(std::string_view url) {
    for (unsigned char c : url) {
        if (c <= 0x20 || c >= 0x7f)
            return "the URL contains a space, control or non-ASCII character";
    }
    if (url.starts_with("https://")) {
        return url.size() > 8 ? std::nullopt : std::optional<std::string>("the URL names no host");
    }
    if (!url.starts_with("http://")) return "the URL must start with https://";
    std::string_view rest = url.substr(7);
    for (std::string_view host : {"127.0.0.1", "localhost", "[::1]"}) {
        if (rest.starts_with(host)) {
            std::string_view after = rest.substr(host.size());
            if (after.empty() || after[0] == ':' || after[0] == '/') return std::nullopt;
        }
    }
    return "plain http:// is allowed only to 127.0.0.1, localhost or [::1]; use https://";
}

}  // namespace mailprobe::oauth2
