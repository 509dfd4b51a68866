#include "state/store.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <system_error>
#include <thread>

#include "core/unique_fd.hpp"
#include "state/posix.hpp"
#include "state/user_dir.hpp"

namespace mailprobe::state {

using detail::os_failure;

namespace {

constexpr std::size_t max_state_size = 16 * 1024 * 1024;  // far beyond any sane probe backlog
constexpr std::size_t max_name_prefix = 48;
constexpr auto lock_poll_interval = std::chrono::milliseconds(20);

std::string choose_path(const std::optional<std::string>& dir) {
    std::string path;
    if (dir) {
        path = *dir;
    } else if (const char* env = std::getenv(state_dir_env); env && *env) {
        path = env;
    } else {
        return "";  // the per-user default (state/user_dir.hpp)
    }
    if (path.empty()) throw unknown("state directory: empty path given");
    while (path.size() > 1 && path.back() == '/') path.pop_back();
    return path;
}

CheckFailure creation_failure(const std::string& path, int err) {
    return unknown(path + ": cannot create state directory: " +
                   std::generic_category().message(err) + create_hint(path));
}

// mkdir -p with mode 0700 for every directory we create.
void make_directories(const std::string& path) {
    if (::mkdir(path.c_str(), 0700) == 0 || errno == EEXIST) return;
    if (errno != ENOENT) throw creation_failure(path, errno);
    std::string parent = detail::parent_dir(path);
    if (parent != path) make_directories(parent);
    if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) throw creation_failure(path, errno);
}

// access(W_OK) is not enough: root passes it even where files cannot be created (read-only
// or virtual filesystems), so create and remove a real file.
void check_writable(const std::string& dir) {
    std::string probe = dir + "/.mailprobe-write-test." + std::to_string(::getpid());
    UniqueFd fd(::open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!fd.valid()) {
        int err = errno;
        throw unknown(dir + ": state directory is not writable: " +
                      std::generic_category().message(err) + create_hint(dir));
    }
    fd.reset();
    ::unlink(probe.c_str());
}

std::string sanitized_prefix(const std::string& identity) {
    std::string prefix;
    for (char c : identity.substr(0, max_name_prefix)) {
        bool safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
        prefix += safe ? c : '_';
    }
    if (!prefix.empty() && prefix.front() == '.') prefix.front() = '_';  // no hidden files
    return prefix;
}

std::string short_sha256_hex(const std::string& data) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr) != 1)
        throw unknown("cannot hash state identity: OpenSSL EVP_Digest failed");
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < 8 && i < length; ++i) {
        out += hex[digest[i] >> 4];
        out += hex[digest[i] & 0x0f];
    }
    return out;
}

std::string shown_identity(const std::string& identity) {
    return "'" + escape_value(identity) + "'";
}

}  // namespace

StateDir StateDir::open(const std::optional<std::string>& dir) {
    std::string path = choose_path(dir);
    if (path.empty()) {
        path = default_user_state_dir();
        prepare_user_state_dir(path);
    } else {
        make_directories(path);
    }
    struct stat info {};
    if (::stat(path.c_str(), &info) != 0)
        throw os_failure(path, "cannot access state directory", errno);
    if (!S_ISDIR(info.st_mode)) throw os_failure(path, "state directory", ENOTDIR);
    require_trusted_directory(path);
    check_writable(path);
    return StateDir(path);
}

std::string StateDir::state_path(const std::string& identity) const {
    std::string prefix = sanitized_prefix(identity);
    return m_path + "/" + (prefix.empty() ? "" : prefix + "-") + short_sha256_hex(identity) +
           ".state";
}

LockedState LockedState::acquire(const StateDir& dir, const std::string& identity,
                                 const Deadline& deadline) {
    std::string path = dir.state_path(identity);
    std::string lock_path = path + ".lock";
    // The lock file is never removed: unlinking a lock file races with its next user.
    UniqueFd fd(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!fd.valid()) throw os_failure(lock_path, "cannot open lock file", errno);
    auto start = std::chrono::steady_clock::now();
    while (true) {
        if (::flock(fd.get(), LOCK_EX | LOCK_NB) == 0)
            return LockedState(std::move(fd), std::move(path), identity);
        if (errno == EINTR) continue;
        if (errno != EWOULDBLOCK) throw os_failure(lock_path, "cannot lock", errno);
        if (deadline.expired()) {
            std::chrono::duration<double> waited = std::chrono::steady_clock::now() - start;
            char seconds[32];
            std::snprintf(seconds, sizeof seconds, "%.1f", waited.count());
            throw unknown("state file " + path + " is locked by another run (waited " + seconds +
                          " s)");
        }
        std::this_thread::sleep_until(
            std::min(deadline.end(), Deadline::Clock::now() + lock_poll_interval));
    }
}

CheckState LockedState::load() {
    try {
        auto text = detail::read_file(m_path, max_state_size, "state file");
        if (!text) {
            m_load_failed = false;
            CheckState fresh;
            fresh.identity = m_identity;
            return fresh;
        }
        CheckState state = parse(*text, m_path);
        if (state.identity != m_identity) {
            throw unknown(m_path + ": state file belongs to identity " +
                          shown_identity(state.identity) + ", not " + shown_identity(m_identity));
        }
        m_load_failed = false;
        return state;
    } catch (...) {
        m_load_failed = true;  // keep the evidence: save() must not replace this file
        throw;
    }
}

void LockedState::save(const CheckState& state) {
    if (m_load_failed)
        throw unknown(m_path + ": not overwriting the state file because it could not be loaded");
    if (state.identity != m_identity) {
        throw unknown(m_path + ": refusing to save state of identity " +
                      shown_identity(state.identity) + " as " + shown_identity(m_identity));
    }
    remove_stale_temp_files();
    detail::replace_file_atomically(m_path, serialize(state));
}

// Temp files of runs that were killed mid-save. We hold the lock, so none is in use.
void LockedState::remove_stale_temp_files() const {
    namespace fs = std::filesystem;
    std::string prefix = fs::path(m_path).filename().string() + ".tmp.";
    std::error_code ec;
    for (fs::directory_iterator it(detail::parent_dir(m_path), ec), end; !ec && it != end;
         it.increment(ec)) {
        std::error_code ignored;  // best effort: a leftover only costs disk space
        if (it->path().filename().string().starts_with(prefix)) fs::remove(it->path(), ignored);
    }
}

}  // namespace mailprobe::state
