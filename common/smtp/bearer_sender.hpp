#pragma once
// SMTP submission with a bearer token (XOAUTH2 / OAUTHBEARER). libcurl 7.88 cannot be told
// which of the two to use when the server offers both, so here libcurl only connects
// (greeting, EHLO, STARTTLS) and we speak AUTH and the transaction ourselves.
#include "smtp/sender.hpp"

namespace mailprobe::smtp {

// Same contract as send_message(); server.auth must be a bearer credential.
SendOutcome send_with_bearer(const ServerConfig& server, const Envelope& envelope,
                             const std::string& message, const Deadline& deadline,
                             const std::function<bool()>& before_data);

// Dot-stuffing (RFC 5321 4.5.2) and CRLF line ends, ending with the "." line.
std::string smtp_data_block(const std::string& message);

}  // namespace mailprobe::smtp
