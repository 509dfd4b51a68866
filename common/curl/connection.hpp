#pragma once
// Where and how to connect: endpoint, TLS policy and credentials, applied to a libcurl
// handle in one place for SMTP, IMAP and POP3; and the one mapping of transfer errors
// to check failures with words a sysadmin can act on.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/deadline.hpp"
#include "curl/certinfo.hpp"
#include "curl/easy.hpp"
#include "curl/protocol.hpp"
#include "curl/transcript.hpp"
#include "result/failure.hpp"

namespace mailprobe::oauth2 {
class TokenSource;
}

namespace mailprobe::curl {

enum class TlsMode { none, starttls, tls };
TlsMode parse_tls_mode(const std::string& text, const std::string& option);

struct TlsOptions {
    std::optional<std::string> cacert;  // PEM bundle to trust instead of the system store
    bool insecure = false;              // skip certificate and host name verification
    std::optional<CertDays> cert_days;  // --cert-days: judge the certificate's expiry
};

// Password today; a bearer token (XOAUTH2/OAUTHBEARER) drops in as another kind.
enum class AuthKind { password, bearer };
struct Credentials {
    std::string user;
    std::string secret;
    AuthKind kind = AuthKind::password;
    std::string mechanism;  // SASL mechanism to insist on; empty: the best the server offers
    // bearer: where the token comes from at run time when secret is empty (shared per side)
    std::shared_ptr<oauth2::TokenSource> token_source;
};

struct Endpoint {
    Protocol protocol = Protocol::smtp;
    std::string host;
    int port = 0;
    TlsMode tls = TlsMode::none;
    std::vector<std::string> resolve;  // CURLOPT_RESOLVE entries (addresses found over DNS)

    std::string url(const std::string& path = "") const;
    std::string display() const;  // "mx.example.org:25"
};

// Sets URL, TLS policy, credentials and the time left on the deadline.
void apply_endpoint(Easy& easy, Slist& resolve_list, const Endpoint& ep, const TlsOptions& tls,
                    const Credentials* cred, const Deadline& deadline,
                    const std::string& path = "");

// Why a TCP connect failed, in words, from the socket's errno (CURLINFO_OS_ERRNO): libcurl
// 7.88 says "Couldn't connect to server" for all of them. `server` reads "SMTP server h:p".
std::string connect_failure_text(int os_errno, const std::string& server);

// Turns a failed transfer into a CRITICAL naming the host, the stage and the reason,
// carrying the transcript of the conversation (for -vvv).
CheckFailure transfer_failure(CURLcode code, const Easy& easy, const Transcript& t,
                              const Endpoint& ep, const Deadline& deadline,
                              const Credentials* cred);

}  // namespace mailprobe::curl
