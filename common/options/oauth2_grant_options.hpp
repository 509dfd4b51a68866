#pragma once
// The OAuth2 client's credentials besides a client secret: a client certificate
// (--oauth2-client-certificate/--oauth2-client-key), a Google service account
// (--oauth2-service-account) and a refresh token (--oauth2-refresh-token-file).
#include <memory>
#include <string>
#include <vector>

#include "oauth2/client_source.hpp"
#include "options/option_set.hpp"

namespace mailprobe {

void add_oauth2_credential_options(OptionSet& options);

// Whether one of these options asks for the built-in client.
bool oauth2_credential_given(const ParsedOptions& parsed);

// The grant these options ask for, or nullptr (then the client secret's). `key` holds the
// token URL and scope; its client_id and subject are set here. `user`: the side's user name,
// the mailbox a service account impersonates. UsageError for options that do not go
// together and for files that cannot be used (named).
std::unique_ptr<oauth2::Grant> oauth2_credential_grant(const ParsedOptions& parsed,
                                                       oauth2::CacheKey& key,
                                                       const std::string& user,
                                                       std::vector<std::string>& warnings);

}  // namespace mailprobe
