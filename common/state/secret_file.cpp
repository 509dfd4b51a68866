#include "state/secret_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <system_error>

#include "core/error.hpp"
#include "core/unique_fd.hpp"
#include "state/posix.hpp"

namespace mailprobe::state {

namespace {

std::string mode_text(mode_t mode) {
    char text[8];
    std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
    return text;
}

bool trusted_owner(uid_t owner) {
    return owner == ::geteuid() || owner == 0;
}

// Another user may have planted the file (or can rewrite it): refuse, and say how to fix it.
void require_own_file(const struct stat& info, const std::string& path, const std::string& what) {
    if (!trusted_owner(info.st_uid)) {
        throw UsageError(what + " " + path + " is owned by uid " + std::to_string(info.st_uid) +
                         ", not by this user (uid " + std::to_string(::geteuid()) +
                         ") or root: another user may have planted it; remove it or chown it "
                         "to this user");
    }
    if ((info.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
        throw UsageError(what + " " + path + " is writable by group or others (mode " +
                         mode_text(info.st_mode) + "): chmod 600 " + path);
    }
}

UsageError read_failed(const std::string& path, const std::string& what, int error) {
    return UsageError("cannot read " + what + " " + path + ": " +
                      std::generic_category().message(error));
}

UsageError too_large(const std::string& path, const std::string& what) {
    return UsageError(what + " " + path + " is too large (over " +
                      std::to_string(max_secret_bytes / 1024) + " KiB): not a secret file");
}

std::string read_bounded(int fd, const std::string& path, const std::string& what) {
    std::string content;
    char buffer[8192];
    while (true) {
        ssize_t got = ::read(fd, buffer, sizeof buffer);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) throw read_failed(path, what, errno);
        if (got == 0) return content;
        content.append(buffer, static_cast<std::size_t>(got));
        if (content.size() > max_secret_bytes) throw too_large(path, what);
    }
}

std::string one_line(std::string content, const std::string& path, const std::string& what) {
    while (!content.empty() && (content.back() == '\n' || content.back() == '\r')) {
        content.pop_back();
    }
    if (content.empty()) throw UsageError(what + " " + path + " is empty");
    if (content.find_first_of("\r\n") != std::string::npos) {
        throw UsageError(what + " " + path + " has more than one line (it must hold one line)");
    }
    if (content.find('\0') != std::string::npos) {
        throw UsageError(what + " " + path + " contains a NUL byte");
    }
    return content;
}

// A document is kept whole: only a blank one or a NUL byte is refused.
std::string whole_document(std::string content, const std::string& path, const std::string& what) {
    if (content.find_first_not_of(" \t\r\n") == std::string::npos) {
        throw UsageError(what + " " + path + " is empty");
    }
    if (content.find('\0') != std::string::npos) {
        throw UsageError(what + " " + path + " contains a NUL byte");
    }
    return content;
}

// Opens and checks `path` as read_secret_file() documents, then reads it whole (bounded).
std::optional<SecretFile> read_checked(const std::string& path, const std::string& what,
                                       Ownership ownership) {
    // O_NONBLOCK: a FIFO planted in place of the file must not block the run.
    int flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
    if (ownership == Ownership::ours) flags |= O_NOFOLLOW;
    UniqueFd fd(::open(path.c_str(), flags));
    if (!fd.valid()) {
        if (errno == ENOENT) return std::nullopt;
        if (errno == ELOOP && ownership == Ownership::ours) {
            throw UsageError(what + " " + path +
                             " is a symbolic link: refused, since another user may have planted "
                             "it; replace the link by the file itself");
        }
        throw UsageError("cannot open " + what + " " + path + ": " +
                         std::generic_category().message(errno));
    }
    struct stat info {};
    if (::fstat(fd.get(), &info) != 0) {
        throw UsageError("cannot inspect " + what + " " + path + ": " +
                         std::generic_category().message(errno));
    }
    if (S_ISDIR(info.st_mode)) throw UsageError(what + " " + path + " is a directory, not a file");
    if (!S_ISREG(info.st_mode)) throw UsageError(what + " " + path + " is not a regular file");
    if (ownership == Ownership::ours) require_own_file(info, path, what);
    if (static_cast<std::size_t>(info.st_size) > max_secret_bytes) throw too_large(path, what);
    SecretFile secret;
    secret.value = read_bounded(fd.get(), path, what);
    secret.readable_by_others = (info.st_mode & (S_IRGRP | S_IROTH)) != 0;
    return secret;
}

}  // namespace

std::optional<SecretFile> read_secret_file(const std::string& path, const std::string& what,
                                           Ownership ownership, Layout layout) {
    auto secret = read_checked(path, what, ownership);
    if (!secret) return secret;
    secret->value = layout == Layout::line ? one_line(std::move(secret->value), path, what)
                                           : whole_document(std::move(secret->value), path, what);
    return secret;
}

SecretFile read_named_file(const std::string& path, const std::string& what, Ownership ownership,
                           Layout layout) {
    auto file = read_secret_file(path, what, ownership, layout);
    if (!file) throw read_failed(path, what, ENOENT);
    return std::move(*file);
}

std::string read_named_secret(const std::string& path, const std::string& what, Ownership ownership,
                              Layout layout, std::vector<std::string>& notes) {
    SecretFile secret = read_named_file(path, what, ownership, layout);
    if (secret.readable_by_others) notes.push_back(readable_by_others_note(what, path));
    return std::move(secret.value);
}

std::string readable_by_others_note(const std::string& what, const std::string& path) {
    return what + " " + path + " is readable by group or others (chmod 600)";
}

void require_trusted_directory(const std::string& dir) {
    UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd.valid()) {
        throw UsageError("cannot open state directory " + dir + ": " +
                         std::generic_category().message(errno));
    }
    struct stat info {};
    if (::fstat(fd.get(), &info) != 0) {
        throw UsageError("cannot inspect state directory " + dir + ": " +
                         std::generic_category().message(errno));
    }
    if ((info.st_mode & S_IWOTH) != 0 && (info.st_mode & S_ISVTX) == 0) {
        throw UsageError("state directory " + dir +
                         " is writable by others without the sticky "
                         "bit (mode " +
                         mode_text(info.st_mode) +
                         "): anyone could replace the probe key; chmod 700 " + dir);
    }
    if (!trusted_owner(info.st_uid)) {
        throw UsageError("state directory " + dir + " is owned by uid " +
                         std::to_string(info.st_uid) + ", not by this user (uid " +
                         std::to_string(::geteuid()) +
                         ") or root: use a directory of your own (--state-dir) or chown it");
    }
}

}  // namespace mailprobe::state
