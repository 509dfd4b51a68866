#pragma once
// Judging what the receiving side wrote into the delivered probe: SPF/DKIM/DMARC/ARC verdicts
// from Authentication-Results and TLS on every hop from Received, against VerdictConfig.
#include <string>
#include <vector>

#include "options/verdict_options.hpp"
#include "relay/received.hpp"
#include "result/check_result.hpp"
#include "verdict/auth_results.hpp"

namespace mailprobe::checks {

// "auth: SPF pass, DKIM fail (...) at mx, DMARC pass" with perfdata auth_spf, auth_dkim,
// auth_dmarc (1 = pass, 0 = anything else); a required method that did not pass sets
// config.auth_status and becomes the summary.
CheckResult auth_result(const verdict::AuthVerdicts& verdicts, const VerdictConfig& config);

// One line per hop ("hop 2: relay.test -> mx.mail.test: TLSv1.3 TLS_AES_256_GCM_SHA384") and
// perfdata hops_without_tls; with --require-tls / --min-tls-version an unencrypted or older
// network hop after the first sets config.tls_status and is named in the summary.
CheckResult tls_result(const std::vector<relay::Hop>& hops, const VerdictConfig& config);

// Adds both children for a delivered probe's header block, as leading children: a non-OK
// one's summary goes in front of the parent's on line 1 (it names the method or hop).
void add_delivery_verdicts(CheckResult& parent, const std::string& header,
                           const VerdictConfig& config);

}  // namespace mailprobe::checks
