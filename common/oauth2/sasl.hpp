#pragma once
// Bearer-token SASL (XOAUTH2, OAUTHBEARER RFC 7628) as IMAP, POP3 and SMTP speak it: the
// client's initial response, the server's error payload in words, and the well-known
// Microsoft 365 refusals explained. Pure functions; the exchange itself is in bearer_login.
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "curl/protocol.hpp"

namespace mailprobe::oauth2 {

enum class Mechanism { xoauth2, oauthbearer };

// "XOAUTH2" / "oauthbearer" -> the mechanism; nullopt for anything else (PLAIN, ...).
std::optional<Mechanism> parse_mechanism(std::string_view name);
std::string mechanism_name(Mechanism mech);

// The base64 initial client response. host and port only go into OAUTHBEARER.
std::string initial_response(Mechanism mech, std::string_view user, std::string_view token,
                             std::string_view host, int port);

// What the client answers to an error challenge to end the exchange (RFC 7628 3.2.3:
// OAUTHBEARER a single %x01, XOAUTH2 an empty response), base64 encoded.
std::string abort_response(Mechanism mech);

// A server's base64 error challenge, e.g.
// eyJzdGF0dXMiOiI0MDEiLCJzY2hlbWVzIjoiYmVhcmVyIiwic2NvcGUiOiJodHRwczovL21haWwuZ29vZ2xlLmNvbS8ifQ==
// -> "status 401, schemes bearer, scope https://mail.google.com/". Text that is not the
// JSON object of RFC 7628 3.2.2 comes back sanitized as it is; never throws.
std::string describe_error_payload(std::string_view base64_payload);

// The SASL mechanisms a server advertised, read from its capability lines as our
// transcript holds them ("S: * CAPABILITY ... AUTH=XOAUTH2", "S: 250-AUTH PLAIN XOAUTH2",
// POP3 "S: SASL PLAIN XOAUTH2"). The last capability list wins (it follows STARTTLS).
std::set<std::string> advertised_mechanisms(const std::vector<std::string>& transcript_lines,
                                            curl::Protocol protocol);

// A sentence of advice for an authentication refusal a sysadmin cannot act on as it is
// (Microsoft 365: "535 5.7.3 Authentication unsuccessful", "550 5.7.30 Basic
// authentication is not supported for Client Submission"); empty when none applies.
// protocol: whose options to name (SMTP: --smtp-*, IMAP and POP3: --mailbox-*); bearer:
// whether a token was used.
std::string explain_auth_refusal(std::string_view reply, curl::Protocol protocol, bool bearer);

}  // namespace mailprobe::oauth2
