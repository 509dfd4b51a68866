#pragma once
// The OAuth2 token endpoint (RFC 6749 section 3.2): one form POST over HTTP(S) under the
// run's deadline, and its JSON reply (section 5.1, or the error of section 5.2) in words.
// Every grant (client credentials, JWT bearer, refresh token) is a different set of form
// fields sent through request_token().
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/deadline.hpp"

namespace mailprobe::oauth2 {

using FormFields = std::vector<std::pair<std::string, std::string>>;

// Where to ask. The URL is https://, or http:// to a loopback host (checked by
// check_token_url at option parsing, not here).
struct TokenEndpoint {
    std::string url;
    std::optional<std::string> cacert;  // PEM bundle to trust instead of the system store
};

// client_secret_basic (RFC 6749 section 2.3.1): sent as HTTP basic authentication.
struct BasicClientAuth {
    std::string client_id;
    std::string client_secret;
};

// A successful reply (RFC 6749 section 5.1).
struct TokenReply {
    std::string access_token;
    std::string token_type;                    // "Bearer" (compared case-insensitively)
    std::optional<long long> expires_in;       // seconds; absent when the server does not say
    std::optional<std::string> refresh_token;  // a rotated refresh token, when sent
};

// application/x-www-form-urlencoded body of `fields` (RFC 6749 appendix B).
std::string form_encode(const FormFields& fields);

// Interprets the endpoint's answer. `http_status` is the HTTP status code, `url` names the
// endpoint in messages. Throws CheckFailure CRITICAL: "OAuth2 token endpoint URL: ..." with
// the provider's error and error_description on 4xx/5xx, or why the reply is unusable (not
// JSON, no access_token, a token that cannot go into a protocol line, not a bearer token).
// Registers the access and refresh tokens as secrets (never printed).
TokenReply parse_token_reply(std::string_view body, long http_status, const std::string& url);

// POSTs `fields` to the endpoint under `deadline` and returns the parsed reply. Throws
// CheckFailure CRITICAL "OAuth2 token endpoint URL: timeout after 3 s" (or unreachable,
// TLS failure, ...) and what parse_token_reply throws. Never prints the form or secrets:
// register secrets (client secret, assertion) with secrets::register_secret before.
TokenReply request_token(const TokenEndpoint& endpoint, const FormFields& fields,
                         const std::optional<BasicClientAuth>& basic, const Deadline& deadline);

// Why `url` cannot be a token endpoint (not https://, or http:// to a non-loopback host,
// CR/LF/space or other control characters); nullopt when it can.
std::optional<std::string> token_url_problem(std::string_view url);

}  // namespace mailprobe::oauth2
