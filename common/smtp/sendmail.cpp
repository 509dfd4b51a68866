#include "smtp/sendmail.hpp"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <sstream>

#include "core/error.hpp"
#include "output/perfdata.hpp"
#include "output/sanitize.hpp"
#include "output/duration.hpp"

namespace mailprobe::smtp {

std::vector<std::string> split_command(const std::string& command) {
    std::vector<std::string> out;
    std::istringstream in(command);
    for (std::string word; in >> word;) out.push_back(word);
    return out;
}

namespace {

struct Pipe {
    int fd[2] = {-1, -1};
    Pipe() {
        if (::pipe2(fd, O_CLOEXEC) != 0)
            throw unknown(std::string("pipe: ") + std::strerror(errno));
    }
    ~Pipe() { close_both(); }
    void close_end(int i) {
        if (fd[i] >= 0) ::close(fd[i]);
        fd[i] = -1;
    }
    void close_both() {
        close_end(0);
        close_end(1);
    }
};

pid_t spawn(const std::vector<std::string>& argv, Pipe& in, Pipe& err) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in.fd[0], 0);
    posix_spawn_file_actions_adddup2(&actions, err.fd[1], 1);  // stdout is ours: keep it clean
    posix_spawn_file_actions_adddup2(&actions, err.fd[1], 2);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);  // so a timeout kills its children too
    posix_spawnattr_setpgroup(&attr, 0);
    std::vector<char*> args;
    args.reserve(argv.size() + 1);
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    pid_t pid = -1;
    int rc = ::posix_spawn(&pid, args[0], &actions, &attr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) {
        throw critical("cannot run " + argv[0] + ": " + std::strerror(rc));
    }
    return pid;
}

// Feeds stdin and collects stderr until both are done or the deadline passes.
bool pump(int in_fd, int err_fd, const std::string& message, std::string& err_text,
          const Deadline& deadline) {
    std::size_t written = 0;
    bool in_open = true, err_open = true;
    while (err_open) {
        pollfd fds[2] = {{err_fd, POLLIN, 0}, {in_open ? in_fd : -1, POLLOUT, 0}};
        int ms = static_cast<int>(std::min<std::int64_t>(deadline.remaining_ms(), 1 << 30));
        if (ms <= 0 || ::poll(fds, 2, ms) <= 0) return false;
        if (in_open && (fds[1].revents & (POLLOUT | POLLERR | POLLHUP))) {
            ssize_t n = ::write(in_fd, message.data() + written, message.size() - written);
            if (n > 0) written += static_cast<std::size_t>(n);
            if (n < 0 || written == message.size()) {
                ::close(in_fd);
                in_open = false;
            }
        }
        if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            char buf[4096];
            ssize_t n = ::read(err_fd, buf, sizeof buf);
            if (n <= 0) {
                err_open = false;
            } else if (err_text.size() < 65536) {
                err_text.append(buf, static_cast<std::size_t>(n));
            }
        }
    }
    if (in_open) ::close(in_fd);
    return true;
}

}  // namespace

SendmailOutcome run_sendmail(const std::vector<std::string>& argv, const std::string& message,
                             const Deadline& deadline) {
    if (argv.empty()) throw UsageError("--sendmail: empty command");
    auto start = std::chrono::steady_clock::now();
    Pipe in, err;
    pid_t pid = spawn(argv, in, err);
    in.close_end(0);
    err.close_end(1);
    std::string err_text;
    int in_fd = in.fd[1];
    in.fd[1] = -1;  // pump() closes it
    bool finished = pump(in_fd, err.fd[0], message, err_text, deadline);
    int status = 0;
    while (finished && ::waitpid(pid, &status, WNOHANG) == 0) {
        if (deadline.expired()) {
            finished = false;
            break;
        }
        ::usleep(2000);  // stdout/stderr are closed: it is exiting
    }
    if (!finished) {
        ::kill(-pid, SIGKILL);
        ::waitpid(pid, &status, 0);
        throw critical(argv[0] + " did not finish within " + human_duration(deadline.budget_s()) +
                       " (killed)");
    }
    SendmailOutcome out;
    out.total_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    out.stderr_text = sanitize_text(err_text, 300);
    if (WIFSIGNALED(status)) {
        throw critical(argv[0] + " killed by signal " + std::to_string(WTERMSIG(status)) +
                       (out.stderr_text.empty() ? "" : ": " + out.stderr_text));
    }
    if (WEXITSTATUS(status) != 0) {
        throw critical(argv[0] + " failed with exit status " + std::to_string(WEXITSTATUS(status)) +
                       (out.stderr_text.empty() ? "" : ": " + out.stderr_text));
    }
    return out;
}

}  // namespace mailprobe::smtp
