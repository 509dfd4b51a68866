#pragma once
// Bearer-token login spoken by us on a connection libcurl has opened (greeting,
// capabilities, STARTTLS) but not authenticated: libcurl 7.88 picks OAUTHBEARER whenever
// the server offers it, whatever CURLOPT_LOGIN_OPTIONS asks for, so the mechanism the user
// chose would not be the one used.
#include "core/deadline.hpp"
#include "mailbox/line_connection.hpp"
#include "result/failure.hpp"

namespace mailprobe::oauth2 {

// The server refused the token itself (not a missing mechanism or a broken exchange): a
// fresh token may succeed.
class TokenRefused : public CheckFailure {
public:
    using CheckFailure::CheckFailure;
};

// Authenticates with the connection's credentials (kind bearer, mechanism XOAUTH2 or
// OAUTHBEARER). Throws CheckFailure CRITICAL naming the protocol, user and server, with the
// server's refusal and its decoded error payload (TokenRefused when the token was refused).
void bearer_login(mailbox::LineConnection& conn, const Deadline& deadline);

}  // namespace mailprobe::oauth2
