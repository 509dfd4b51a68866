#include "oauth2/token_cache.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <thread>

#include "core/secrets.hpp"
#include "oauth2/token_source.hpp"
#include "state/posix.hpp"

namespace mailprobe::oauth2 {

namespace {

constexpr std::string_view k_magic = "mailprobe-oauth2-token 1\n";
constexpr std::size_t k_max_cache_file = 70 * 1024;
constexpr auto k_lock_poll = std::chrono::milliseconds(50);

std::string sha256_hex(const std::string& data) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr) != 1)
        throw unknown("cannot hash the token cache key: OpenSSL EVP_Digest failed");
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < 16 && i < length; ++i) {
        out += hex[digest[i] >> 4];
        out += hex[digest[i] & 0x0f];
    }
    return out;
}

// One line "<name> <value>\n" at the front of text; advances text past it.
std::optional<std::string_view> take_line(std::string_view& text, std::string_view name) {
    if (!text.starts_with(name) || text.size() <= name.size() || text[name.size()] != ' ')
        return std::nullopt;
    auto eol = text.find('\n');
    if (eol == std::string_view::npos) return std::nullopt;
    std::string_view value = text.substr(name.size() + 1, eol - name.size() - 1);
    text.remove_prefix(eol + 1);
    return value;
}

}  // namespace

std::string format_cached_token(const CachedToken& token) {
    return std::string(k_magic) + "expires " + std::to_string(token.expires_at) + "\ntoken " +
           token.access_token + "\n";
}

std::optional<CachedToken> parse_cached_token(std::string_view text) {
    if (!text.starts_with(k_magic)) return std::nullopt;
    text.remove_prefix(k_magic.size());
    auto expires = take_line(text, "expires");
    if (!expires) return std::nullopt;
    auto token = take_line(text, "token");
    if (!token || !text.empty() || token_problem(*token)) return std::nullopt;
    CachedToken out;
    auto [end, ec] =
        std::from_chars(expires->data(), expires->data() + expires->size(), out.expires_at);
    if (ec != std::errc() || end != expires->data() + expires->size() || out.expires_at < 0)
        return std::nullopt;
    out.access_token = std::string(*token);
    return out;
}

bool usable(const CachedToken& token, std::int64_t now, std::int64_t margin_s) {
    return token.expires_at > now + margin_s;
}

TokenCache::TokenCache(const std::string& state_dir, const CacheKey& key) {
    // NUL separators: no two different keys give the same hashed text.
    std::string material =
        key.token_url + '\0' + key.client_id + '\0' + key.scope + '\0' + key.subject;
    m_path = state_dir + "/oauth2-token-" + sha256_hex(material) + ".cache";
}

std::optional<TokenCache::Lock> TokenCache::lock(const Deadline& deadline) const {
    const std::string lock_path = m_path + ".lock";
    // Never removed: unlinking a lock file races with its next user.
    UniqueFd fd(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!fd.valid()) throw state::detail::os_failure(lock_path, "cannot open lock file", errno);
    while (true) {
        if (::flock(fd.get(), LOCK_EX | LOCK_NB) == 0) return Lock(std::move(fd));
        if (errno == EINTR) continue;
        if (errno != EWOULDBLOCK) throw state::detail::os_failure(lock_path, "cannot lock", errno);
        if (deadline.expired()) return std::nullopt;
        std::this_thread::sleep_until(
            std::min(deadline.end(), Deadline::Clock::now() + k_lock_poll));
    }
}

std::optional<CachedToken> TokenCache::load() const {
    auto text = state::detail::read_file(m_path, k_max_cache_file, "token cache file");
    if (!text) return std::nullopt;
    auto token = parse_cached_token(*text);
    if (token) secrets::register_secret(token->access_token);
    return token;
}

void TokenCache::store(const CachedToken& token) const {
    state::detail::replace_file_atomically(m_path, format_cached_token(token));
}

void TokenCache::drop(const std::string& token) const {
    auto cached = load();
    if (cached && cached->access_token == token && ::unlink(m_path.c_str()) != 0 &&
        errno != ENOENT) {
        throw state::detail::os_failure(m_path, "cannot remove", errno);
    }
}

}  // namespace mailprobe::oauth2
