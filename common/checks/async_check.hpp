#pragma once
// --async: long delivery windows across runs. Each run collects the probes of this check
// identity that arrived since the last run (recording their delivery time), judges the
// ones still outstanding, sends a fresh one (unless only a mailbox is watched) and keeps
// the bookkeeping in a locked, atomically replaced state file.
#include <optional>
#include <string>

#include "mailbox/session.hpp"
#include "options/async_options.hpp"
#include "options/smtp_options.hpp"
#include "options/standard.hpp"
#include "probe/probe.hpp"
#include "result/check_result.hpp"

namespace mailprobe::checks {

struct AsyncParams {
    const StandardConfig& standard;
    const mailbox::MailboxConfig& mailbox;
    const probe::Identity& identity;
    const AsyncOptions& async;
    const SmtpOptions* smtp;  // null: watch the mailbox only (check_mailbox_receive)
    double wait_s = 0;        // hybrid: wait this long for the fresh probe
    bool keep = false;
};

struct AsyncOutcome {
    CheckResult result;
    std::optional<std::string> delivered_header;  // of the newest probe delivered this run
    std::int64_t delivered_sent_ms = 0;
};

AsyncOutcome run_async(const AsyncParams& a);

// Unix ms when the final MTA received the message (topmost dated Received field).
std::optional<std::int64_t> arrival_ms(const std::string& header);

}  // namespace mailprobe::checks
