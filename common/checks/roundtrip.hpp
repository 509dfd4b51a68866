#pragma once
// check_mail_roundtrip: send a probe, find it in the mailbox, measure, delete only it.
#include <memory>
#include <optional>

#include "checks/async_check.hpp"
#include "checks/mailbox_flow.hpp"
#include "checks/probe_sender.hpp"
#include "mailbox/session.hpp"
#include "options/verdict_options.hpp"
#include "verdict/dsn.hpp"

namespace mailprobe::checks {

struct RoundTripConfig {
    StandardConfig standard;
    SmtpOptions smtp;
    mailbox::MailboxConfig mailbox;
    probe::Identity identity;
    // --wait: default_wait_s, but at most wait_share_of_timeout of -t, so that a shorter -t
    // alone still leaves time to report.
    static constexpr double default_wait_s = 35;
    static constexpr double wait_share_of_timeout = 0.7;
    double wait_s = default_wait_s;
    bool keep = false;
    AsyncOptions async;
    VerdictConfig verdicts;
    std::vector<std::string> warnings;

    static const StandardDefaults& defaults();
    static void declare(OptionSet& options);
    static RoundTripConfig from(const ParsedOptions& parsed);
};

// What one round trip did, before it is judged.
struct RoundTripRun {
    probe::Probe probe;
    SendReport sent;
    MailboxStage mailbox;
    int stale_removed = 0;
    std::optional<Arrival> arrival;
    double delivery_s = 0;
    double delete_s = 0;
    std::optional<verdict::Dsn> bounce;  // a permanent failure reported for this probe
    std::vector<verdict::Dsn> delays;    // delayed-delivery DSNs for this probe
    int dsn_removed = 0;                 // DSNs about this probe deleted
    int dsn_ignored = 0;                 // forged DSNs quoting our name, left alone
};

// Sends and waits; throws CheckFailure when sending or the mailbox fails.
RoundTripRun execute_roundtrip(const RoundTripConfig& config, const Deadline& deadline);
// Judges a run: delivery thresholds, junk folder, not found.
CheckResult roundtrip_result(const RoundTripConfig& config, const RoundTripRun& run,
                             const Deadline& deadline);

CheckResult run_roundtrip(const RoundTripConfig& config);
// --async for the round trip (and relay) configuration.
AsyncOutcome run_roundtrip_async(const RoundTripConfig& config);

}  // namespace mailprobe::checks
