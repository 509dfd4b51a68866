// Probe HMAC keys: the generated per-directory key and keys given with --probe-secret-file.
#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "core/unique_fd.hpp"
#include "state/posix.hpp"
#include "state/secret_file.hpp"
#include "state/store.hpp"

namespace mailprobe::state {

using detail::os_failure;

namespace {

constexpr std::size_t key_bytes = 32;
constexpr std::size_t min_key_hex_digits = 32;  // 16 bytes of key material
constexpr const char* key_what = "probe key";

std::string to_hex(const unsigned char* data, std::size_t size) {
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    for (std::size_t i = 0; i < size; ++i) {
        out += hex[data[i] >> 4];
        out += hex[data[i] & 0x0f];
    }
    return out;
}

std::string random_hex(std::size_t bytes) {
    unsigned char buffer[64];
    if (bytes > sizeof buffer || RAND_bytes(buffer, static_cast<int>(bytes)) != 1)
        throw unknown("cannot generate a random key: OpenSSL RAND_bytes failed");
    return to_hex(buffer, bytes);
}

std::string parse_generated_key(const std::string& key, const std::string& path) {
    bool hex = key.find_first_not_of("0123456789abcdefABCDEF") == std::string::npos;
    if (!hex || key.size() % 2 != 0 || key.size() < min_key_hex_digits) {
        throw unknown(path + ": corrupt key file: expected at least " +
                      std::to_string(min_key_hex_digits) + " hex digits on one line");
    }
    return key;
}

// Publishes a new key at `path` unless one appears first. link() never replaces an existing
// file, so concurrent first uses end up agreeing on whichever key was linked first.
// Returns the key on success, std::nullopt if another run won.
std::optional<std::string> try_create_key(const std::string& path) {
    std::string key = random_hex(key_bytes);
    // Unique per call (not just per pid) so threads of one process cannot collide either.
    std::string tmp = path + ".tmp." + std::to_string(::getpid()) + "." + random_hex(4);
    UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!fd.valid()) throw os_failure(tmp, "cannot create key file", errno);
    try {
        // Exactly 0600 whatever the umask.
        if (::fchmod(fd.get(), 0600) != 0) throw os_failure(tmp, "cannot chmod key file", errno);
        detail::write_all(fd.get(), key + "\n", tmp);
        if (::fsync(fd.get()) != 0) throw os_failure(tmp, "cannot sync key file", errno);
        if (int err = fd.close_checked()) throw os_failure(tmp, "cannot close key file", err);
        if (::link(tmp.c_str(), path.c_str()) != 0) {
            if (errno != EEXIST) throw os_failure(path, "cannot create key file", errno);
            ::unlink(tmp.c_str());
            return std::nullopt;
        }
    } catch (...) {
        ::unlink(tmp.c_str());
        throw;
    }
    ::unlink(tmp.c_str());
    detail::fsync_directory(detail::parent_dir(path));
    return key;
}

}  // namespace

std::string StateDir::load_or_create_key() const {
    std::string path = m_path + "/probe.key";
    // Retried because a key seen as missing may have been created (or removed by hand)
    // between our read and our link.
    for (int attempt = 0; attempt < 3; ++attempt) {
        if (auto content = read_secret_file(path, key_what, Ownership::ours))
            return parse_generated_key(content->value, path);
        if (auto key = try_create_key(path)) return *key;
    }
    throw unknown(path + ": key file keeps disappearing while it is being created");
}

std::string read_key_file(const std::string& path, std::vector<std::string>& notes) {
    return read_named_secret(path, key_what, Ownership::ours, Layout::line, notes);
}

}  // namespace mailprobe::state
