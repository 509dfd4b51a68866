#pragma once
// A local program run without a shell under the run's deadline (sendmail, token
// commands): input fed to its stdin, its output collected, killed with its process group
// when the deadline passes.
#include <string>
#include <vector>

#include "core/deadline.hpp"

namespace mailprobe::process {

struct ChildOutcome {
    int exit_status = 0;  // valid when !signal
    int signal = 0;       // the signal that killed it, 0 if it exited
    std::string out;      // stdout (empty when merged into err)
    std::string err;      // stderr (and stdout when merged), raw, at most 64 KiB
    double total_s = 0;
};

// "prog -a -b" -> {"prog", "-a", "-b"}; quotes are not interpreted (no shell).
std::vector<std::string> split_command(const std::string& command);

// merge_stdout: its stdout goes where its stderr goes (ours stays clean either way).
// Throws CheckFailure CRITICAL "cannot run PROG: ..." and "PROG did not finish within
// N s (killed)"; the caller judges the exit status.
ChildOutcome run_child(const std::vector<std::string>& argv, const std::string& input,
                       const Deadline& deadline, bool merge_stdout);

}  // namespace mailprobe::process
