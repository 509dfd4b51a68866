#include "process/child.hpp"

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

#include "core/duration.hpp"
#include "core/unique_fd.hpp"
#include "result/failure.hpp"

namespace mailprobe::process {

std::vector<std::string> split_command(const std::string& command) {
    std::vector<std::string> out;
    std::istringstream in(command);
    for (std::string word; in >> word;) out.push_back(word);
    return out;
}

namespace {

constexpr std::size_t k_max_output = 65536;

// Both ends of a pipe(2), close-on-exec; each end closes when its owner is done with it.
struct Pipe {
    UniqueFd read;
    UniqueFd write;
};

Pipe make_pipe() {
    int fds[2] = {-1, -1};
    if (::pipe2(fds, O_CLOEXEC) != 0) throw unknown(std::string("pipe: ") + std::strerror(errno));
    return Pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

pid_t spawn(const std::vector<std::string>& argv, const Pipe& in, const Pipe& out, const Pipe& err,
            bool merge_stdout) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in.read.get(), 0);
    posix_spawn_file_actions_adddup2(&actions, merge_stdout ? err.write.get() : out.write.get(), 1);
    posix_spawn_file_actions_adddup2(&actions, err.write.get(), 2);
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
    if (rc != 0) throw critical("cannot run " + argv[0] + ": " + std::strerror(rc));
    return pid;
}

// Feeds stdin and collects stdout/stderr until both are closed or the deadline passes.
bool pump(Pipe& in, Pipe& out, Pipe& err, const std::string& input, ChildOutcome& result,
          const Deadline& deadline) {
    std::size_t written = 0;
    if (input.empty()) in.write.reset();
    while (out.read.valid() || err.read.valid()) {
        pollfd fds[3] = {
            {out.read.get(), POLLIN, 0}, {err.read.get(), POLLIN, 0}, {in.write.get(), POLLOUT, 0}};
        int ms = static_cast<int>(std::min<std::int64_t>(deadline.remaining_ms(), 1 << 30));
        if (ms <= 0 || ::poll(fds, 3, ms) <= 0) return false;
        if (in.write.valid() && (fds[2].revents & (POLLOUT | POLLERR | POLLHUP))) {
            ssize_t n = ::write(in.write.get(), input.data() + written, input.size() - written);
            if (n > 0) written += static_cast<std::size_t>(n);
            if (n < 0 || written == input.size()) in.write.reset();
        }
        UniqueFd* readers[2] = {&out.read, &err.read};
        std::string* texts[2] = {&result.out, &result.err};
        for (int i = 0; i < 2; ++i) {
            if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            char buf[4096];
            ssize_t n = ::read(readers[i]->get(), buf, sizeof buf);
            if (n <= 0) {
                readers[i]->reset();
            } else if (texts[i]->size() < k_max_output) {
                texts[i]->append(buf, static_cast<std::size_t>(n));
            }
        }
    }
    return true;
}

}  // namespace

ChildOutcome run_child(const std::vector<std::string>& argv, const std::string& input,
                       const Deadline& deadline, bool merge_stdout) {
    if (argv.empty()) throw UsageError("empty command");
    auto start = std::chrono::steady_clock::now();
    Pipe in = make_pipe();
    Pipe out = make_pipe();
    Pipe err = make_pipe();
    pid_t pid = spawn(argv, in, out, err, merge_stdout);
    // Our copies of the child's ends go, so that its exit shows as end of file.
    in.read.reset();
    out.write.reset();
    err.write.reset();
    if (merge_stdout) out.read.reset();
    ChildOutcome result;
    bool finished = pump(in, out, err, input, result, deadline);
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
    result.total_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (WIFSIGNALED(status)) {
        result.signal = WTERMSIG(status);
    } else {
        result.exit_status = WEXITSTATUS(status);
    }
    return result;
}

}  // namespace mailprobe::process
