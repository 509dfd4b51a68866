#include "state/posix.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include "core/unique_fd.hpp"

namespace mailprobe::state::detail {

CheckFailure os_failure(const std::string& path, const std::string& action, int err) {
    return unknown(path + ": " + action + ": " + std::generic_category().message(err));
}

std::string parent_dir(const std::string& path) {
    auto slash = path.find_last_of('/');
    if (slash == std::string::npos) return ".";
    if (slash == 0) return "/";
    return path.substr(0, slash);
}

std::optional<std::string> read_file(const std::string& path, std::size_t max_size,
                                     const std::string& what) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
    if (!fd.valid()) {
        if (errno == ENOENT) return std::nullopt;
        throw os_failure(path, "cannot open " + what, errno);
    }
    std::string content;
    char buffer[8192];
    while (true) {
        ssize_t got = ::read(fd.get(), buffer, sizeof buffer);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) throw os_failure(path, "cannot read " + what, errno);
        if (got == 0) return content;
        content.append(buffer, static_cast<std::size_t>(got));
        if (content.size() > max_size)
            // NOLINTNEXTLINE(performance-inefficient-string-concatenation): once, on error
            throw unknown(path + ": " + what + " is too large (over " + std::to_string(max_size) +
                          " bytes)");
    }
}

void write_all(int fd, std::string_view data, const std::string& path) {
    while (!data.empty()) {
        ssize_t put = ::write(fd, data.data(), data.size());
        if (put < 0 && errno == EINTR) continue;
        if (put < 0) throw os_failure(path, "cannot write", errno);
        data.remove_prefix(static_cast<std::size_t>(put));
    }
}

void fsync_directory(const std::string& dir) {
    UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd.valid()) throw os_failure(dir, "cannot open directory", errno);
    if (::fsync(fd.get()) != 0 && errno != EINVAL)
        throw os_failure(dir, "cannot sync directory", errno);
}

namespace {

void write_durably(const std::string& tmp, std::string_view content) {
    // O_TRUNC: a file of the same name can only be the leftover of a killed run with our pid.
    UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!fd.valid()) throw os_failure(tmp, "cannot create", errno);
    write_all(fd.get(), content, tmp);
    if (::fsync(fd.get()) != 0) throw os_failure(tmp, "cannot sync", errno);
    if (int err = fd.close_checked()) throw os_failure(tmp, "cannot close", err);
}

}  // namespace

void replace_file_atomically(const std::string& path, std::string_view content) {
    std::string tmp = path + ".tmp." + std::to_string(::getpid());
    try {
        write_durably(tmp, content);
        if (::rename(tmp.c_str(), path.c_str()) != 0)
            throw os_failure(path, "cannot rename " + tmp + " over it", errno);
    } catch (...) {
        ::unlink(tmp.c_str());
        throw;
    }
    fsync_directory(parent_dir(path));
}

}  // namespace mailprobe::state::detail
