#pragma once
// check_mail_relay: a round trip through a relay chain (SMTP1 -> SMTP2 -> mailbox) that
// rebuilds the probe's path from its Received fields and judges each hop.
#include "checks/roundtrip.hpp"
#include "relay/received.hpp"

namespace mailprobe::checks {

struct RelayConfig {
    RoundTripConfig roundtrip;
    std::vector<std::string> expect_hops;  // patterns, in order
    Thresholds hop_thresholds;

    static void declare(OptionSet& options);
    static RelayConfig from(const ParsedOptions& parsed);
};

// Judges the path of a delivered probe: per-hop delays (first hop measured from the send
// time), expected hops in order, hop thresholds. Pure: unit-testable on header samples.
CheckResult hops_result(const std::vector<relay::Hop>& hops, std::int64_t sent_ms,
                        const std::vector<std::string>& expect_hops,
                        const Thresholds& hop_thresholds);

// True when pattern (shell wildcards, case-insensitive; plain text matches a part of the
// name) matches a hop's receiving host.
bool hop_matches(const relay::Hop& hop, const std::string& pattern);

CheckResult run_relay(const RelayConfig& config);

}  // namespace mailprobe::checks
