#include "state/user_dir.hpp"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <system_error>
#include <vector>

#include "result/failure.hpp"
#include "state/posix.hpp"

namespace mailprobe::state {

namespace {

std::string error_text(int err) {
    return std::generic_category().message(err);
}

CheckFailure dir_failure(const std::string& dir, const std::string& what) {
    return unknown(dir + ": " + what + create_hint(dir));
}

void make_parents(const std::string& dir) {
    if (::access(dir.c_str(), F_OK) == 0) return;
    std::string parent = detail::parent_dir(dir);
    if (parent != dir) make_parents(parent);
    if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST)
        throw unknown(dir + ": cannot create directory: " + error_text(errno));
}

// Running as root without the package: make the base as the package would, so that other
// users' first runs work afterwards too.
void create_base_as_root(const std::string& base) {
    make_parents(detail::parent_dir(base));
    if (::mkdir(base.c_str(), 0700) != 0) {
        if (errno == EEXIST) return;  // someone else made it meanwhile: judged as found
        throw unknown(base + ": cannot create state directory: " + error_text(errno));
    }
    // chmod after mkdir: the umask applies to mkdir's mode.
    if (::chmod(base.c_str(), 01777) != 0)
        throw unknown(base + ": cannot chmod state directory: " + error_text(errno));
}

// A base that others may write to must be sticky, or they could rename our directory away.
void check_base(const std::string& base, const std::string& dir) {
    struct stat st {};
    if (::lstat(base.c_str(), &st) != 0) return;  // reported when creating dir
    if (!S_ISDIR(st.st_mode)) throw dir_failure(dir, base + " is not a directory");
    if (st.st_uid != 0 && st.st_uid != ::geteuid())
        throw unknown(base + ": state base directory is owned by uid " + std::to_string(st.st_uid) +
                      ", not by root; recreate it with: " + "install -d -o root -m 1777 " + base);
    if ((st.st_mode & S_IWOTH) && !(st.st_mode & S_ISVTX))
        throw unknown(base + ": state base directory is writable by others without the " +
                      "sticky bit; fix it with: chmod 1777 " + base);
}

void check_own_dir(const std::string& dir) {
    struct stat st {};
    if (::lstat(dir.c_str(), &st) != 0)
        throw dir_failure(dir, "cannot access state directory: " + error_text(errno));
    if (!S_ISDIR(st.st_mode)) throw dir_failure(dir, "state directory is not a directory");
    if (st.st_uid != ::geteuid()) {
        const passwd* owner = ::getpwuid(st.st_uid);
        std::string who = owner ? std::string(owner->pw_name) : "uid " + std::to_string(st.st_uid);
        throw unknown(dir + ": state directory belongs to " + who + ", not to " +
                      running_user_name() + "; remove it and create it with: install -d -o " +
                      running_user_name() + " -m 0700 " + dir);
    }
    if (st.st_mode & (S_IWGRP | S_IWOTH))
        throw unknown(dir + ": state directory is writable by group or others; fix it with: " +
                      "chmod 0700 " + dir);
}

}  // namespace

std::string running_user_name() {
    uid_t uid = ::geteuid();
    std::vector<char> buffer(16384);
    passwd entry{};
    passwd* found = nullptr;
    if (::getpwuid_r(uid, &entry, buffer.data(), buffer.size(), &found) == 0 && found &&
        found->pw_name && *found->pw_name &&
        std::string(found->pw_name).find('/') == std::string::npos)
        return found->pw_name;
    return "uid-" + std::to_string(uid);
}

std::string default_user_state_dir() {
    std::string base = default_state_base;
    if (const char* env = std::getenv(state_base_env); env && *env) base = env;
    while (base.size() > 1 && base.back() == '/') base.pop_back();
    return base + "/" + running_user_name();
}

std::string create_hint(const std::string& dir) {
    std::string user = running_user_name();
    // install -o takes a numeric uid as well.
    if (user.starts_with("uid-")) user = user.substr(4);
    return "; create it with: install -d -o " + user + " -m 0700 " + dir;
}

void prepare_user_state_dir(const std::string& dir) {
    std::string base = detail::parent_dir(dir);
    if (::geteuid() == 0 && ::access(base.c_str(), F_OK) != 0) create_base_as_root(base);
    check_base(base, dir);
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
        int err = errno;
        std::string why = err == ENOENT ? base + " does not exist" : error_text(err);
        throw dir_failure(dir, "cannot create state directory (" + why + ")");
    }
    check_own_dir(dir);
}

}  // namespace mailprobe::state
