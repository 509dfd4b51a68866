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
#include "state/model.hpp"
#include "verdict/dsn.hpp"

namespace mailprobe::checks {

enum class AsyncMode {
    send_and_watch,  // each run sends a fresh probe and judges delivery times (round trip)
    watch_only       // probes come from elsewhere: the newest one's age is judged (receive)
};

struct AsyncParams {
    const StandardConfig& standard;
    const mailbox::MailboxConfig& mailbox;
    const probe::Identity& identity;
    const AsyncOptions& async;
    AsyncMode mode = AsyncMode::watch_only;
    const SmtpOptions* smtp = nullptr;  // send_and_watch: how the fresh probe goes out
    double wait_s = 0;                  // hybrid: wait this long for the fresh probe
    bool keep = false;
};

struct AsyncOutcome {
    CheckResult result;
    std::optional<std::string> delivered_header;  // of the newest probe delivered this run
    std::int64_t delivered_sent_ms = 0;
};

AsyncOutcome run_async(const AsyncParams& a);

// What one run found besides deliveries, for judge_async.
struct AsyncFindings {
    int lost = 0;                       // outstanding probes given up on in this run
    std::vector<std::string> bounced;   // line-1 text per probe closed as bounced in this run
    std::vector<verdict::Dsn> delayed;  // delayed-delivery DSNs about outstanding probes
    int dsn_ignored = 0;                // DSNs quoting a probe tag that does not verify
    std::string fresh_id;               // the probe sent in this run: cannot be late yet
};

// Step (4) of a run, at Unix time now_ms: the oldest outstanding probe decides when it is
// beyond -w/-c; else the last delivery (send_and_watch: its delivery time; watch_only: the
// newest probe's age). Lost probes make it CRITICAL, delays at least WARNING, bounces
// CRITICAL, each named in front on line 1. check_name: the probe name, for "none seen yet".
CheckResult judge_async(AsyncMode mode, const Thresholds& thresholds, const std::string& check_name,
                        const state::CheckState& state, const AsyncFindings& findings,
                        std::int64_t now_ms);

// Unix ms when the final MTA received the message (topmost dated Received field).
std::optional<std::int64_t> arrival_ms(const std::string& header);

}  // namespace mailprobe::checks
