#include "smtp/sendmail.hpp"

#include "core/sanitize.hpp"
#include "process/child.hpp"
#include "result/failure.hpp"

namespace mailprobe::smtp {

std::vector<std::string> split_command(const std::string& command) {
    return process::split_command(command);
}

SendmailOutcome run_sendmail(const std::vector<std::string>& argv, const std::string& message,
                             const Deadline& deadline) {
    if (argv.empty()) throw UsageError("--sendmail: empty command");
    // Its stdout joins stderr: whatever it says is diagnostics, and ours stays clean.
    process::ChildOutcome child = process::run_child(argv, message, deadline, true);
    SendmailOutcome out;
    out.total_s = child.total_s;
    out.stderr_text = sanitize_text(child.err, 300);
    if (child.signal != 0) {
        throw critical(argv[0] + " killed by signal " + std::to_string(child.signal) +
                       (out.stderr_text.empty() ? "" : ": " + out.stderr_text));
    }
    if (child.exit_status != 0) {
        throw critical(argv[0] + " failed with exit status " + std::to_string(child.exit_status) +
                       (out.stderr_text.empty() ? "" : ": " + out.stderr_text));
    }
    return out;
}

}  // namespace mailprobe::smtp
