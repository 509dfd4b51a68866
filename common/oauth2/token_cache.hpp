#pragma once
// Access tokens kept in the state directory between runs, so that a check run every minute
// asks the token endpoint about once an hour, and 20 checks started together ask it once:
// the first run holds an flock while it asks, the others wait for it and read its answer.
// Only this file ever holds a token; it is never printed.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/deadline.hpp"
#include "core/unique_fd.hpp"

namespace mailprobe::oauth2 {

struct CachedToken {
    std::string access_token;
    std::int64_t expires_at = 0;  // Unix seconds
};

// "mailprobe-oauth2-token 1\nexpires <unix seconds>\ntoken <token>\n"
std::string format_cached_token(const CachedToken& token);
// nullopt for anything else (another version, truncated, a token that cannot go into a
// protocol line): such a file is treated as absent and replaced.
std::optional<CachedToken> parse_cached_token(std::string_view text);
// Still good at `now` with `margin_s` to spare.
bool usable(const CachedToken& token, std::int64_t now, std::int64_t margin_s);

// What a cached token is for; distinct keys never share a file.
struct CacheKey {
    std::string token_url;
    std::string client_id;
    std::string scope;
    std::string subject;  // the impersonated mailbox (service accounts); empty otherwise
};

class TokenCache {
public:
    // `state_dir` must exist (state::StateDir::open made it).
    TokenCache(const std::string& state_dir, const CacheKey& key);

    // "<dir>/oauth2-token-<32 hex of SHA-256 over the key>.cache"
    const std::string& path() const { return m_path; }

    // RAII: an exclusive flock on "<path>.lock".
    class Lock {
    public:
        explicit Lock(UniqueFd fd) : m_fd(std::move(fd)) {}

    private:
        UniqueFd m_fd;
    };
    // Waits for the lock until the deadline; then nullopt (the caller names the wait).
    std::optional<Lock> lock(const Deadline& deadline) const;

    // The cached token, or nullopt when there is none or the file is not one of ours.
    std::optional<CachedToken> load() const;
    // Atomic replace (temp file 0600, fsync, rename).
    void store(const CachedToken& token) const;
    // Removes the cached token if it is `token` (one the mail server refused).
    void drop(const std::string& token) const;

private:
    std::string m_path;
};

}  // namespace mailprobe::oauth2
