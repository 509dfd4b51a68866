#pragma once
// Local submission through a sendmail-compatible program (setup 4): the probe is piped to
// the program, run without a shell, and its exit status and stderr decide the outcome.
#include <string>
#include <vector>

#include "core/deadline.hpp"

namespace mailprobe::smtp {

inline constexpr const char* k_default_sendmail = "/usr/sbin/sendmail -t -oi";

struct SendmailOutcome {
    double total_s = 0;
    std::string stderr_text;  // sanitized, may be empty
};

// "prog -a -b" -> {"prog", "-a", "-b"}; quotes are not interpreted (no shell).
std::vector<std::string> split_command(const std::string& command);

// Throws CheckFailure: CRITICAL when the program cannot run, fails, or outlives the
// deadline (it is then killed, with its process group).
SendmailOutcome run_sendmail(const std::vector<std::string>& argv, const std::string& message,
                             const Deadline& deadline);

}  // namespace mailprobe::smtp
