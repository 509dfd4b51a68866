#pragma once
// The refresh-token grant (RFC 6749 section 6) for delegated set-ups, and the rotated refresh
// token a provider may return, written back so that the next run can still refresh.
#include <string>
#include <vector>

#include "oauth2/token_endpoint.hpp"

namespace mailprobe::oauth2 {

// The token of --oauth2-refresh-token-file: one line, read as a secret (a note in `warnings`
// when group or others may read it). UsageError naming the file otherwise.
std::string read_refresh_token(const std::string& path, std::vector<std::string>& warnings);

// grant_type=refresh_token, refresh_token, and scope when not empty. Client authentication
// (client_id, secret or assertion) is added by the caller.
FormFields refresh_token_grant_fields(const std::string& refresh_token, const std::string& scope);

// Replaces the file's token with `rotated` atomically (temporary file in the same directory,
// fsync, rename), mode 0600: a run killed half-way leaves the old token or the new one,
// never a mix. A symbolic link is followed and its target replaced. Throws CheckFailure
// UNKNOWN naming the file when it cannot be written.
void store_rotated_refresh_token(const std::string& path, const std::string& rotated);

}  // namespace mailprobe::oauth2
