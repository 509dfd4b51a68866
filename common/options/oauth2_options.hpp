#pragma once
// Bearer-token (OAuth2) options of the SMTP and mailbox sides: --SIDE-token-file or
// MAILPROBE_SIDE_TOKEN, used when --SIDE-auth-mech is XOAUTH2 or OAUTHBEARER.
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "curl/connection.hpp"
#include "options/option_set.hpp"

namespace mailprobe {

// Whose options: the SMTP side's (--smtp-*) or the mailbox side's (--mailbox-*).
enum class Side { smtp, mailbox };
std::string option_prefix(Side side);  // "smtp" / "mailbox"

void add_token_options(OptionSet& options, Side side);

// The built-in OAuth2 client (--oauth2-*), shared by both sides; declared once per plugin.
void add_oauth2_client_options(OptionSet& options);

// The bearer credentials when --SIDE-auth-mech names a bearer mechanism, else nullopt.
// UsageError when the token is missing or malformed, when a token is given without a
// bearer mechanism, or (user empty) without a user name. Registers the token as a secret.
std::optional<curl::Credentials> bearer_credentials(const ParsedOptions& parsed, Side side,
                                                    const std::string& user,
                                                    std::vector<std::string>& warnings);

// A round trip asks the token endpoint once for both sides: the mailbox side uses the SMTP
// side's built-in client when both would ask for the same token.
void share_oauth2_client(const std::optional<curl::Credentials>& smtp, curl::Credentials& mailbox);

// UsageError when --oauth2-* options were given but no side logs in through the built-in
// client (no bearer mechanism, or a token file, variable or command took precedence):
// options that would be ignored silently are a mistake the user wants to hear about.
void require_oauth2_client_use(const ParsedOptions& parsed,
                               std::initializer_list<const curl::Credentials*> sides);

}  // namespace mailprobe
