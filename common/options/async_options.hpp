#pragma once
// --async and --give-up: the options of the asynchronous mode (checks/async_check.hpp), shared
// by check_mail_roundtrip and check_mailbox_receive.
#include <optional>
#include <string>

#include "options/option_set.hpp"

namespace mailprobe {

struct AsyncOptions {
    bool enabled = false;
    static constexpr double default_give_up_s = 3600;  // stated once: help, man, parser
    double give_up_s = default_give_up_s;
    std::optional<std::string> state_dir;
    bool wait_given = false;  // --wait given: also wait for the fresh probe (hybrid)
};

void add_async_options(OptionSet& options);
// Also reads --state-dir (add_probe_options) and whether --wait was given.
AsyncOptions async_options_from(const ParsedOptions& parsed);

}  // namespace mailprobe
