#pragma once
// What the receiving side wrote into the delivered probe, and what to demand of it:
// SPF/DKIM/DMARC verdicts (--authserv-id, --require-auth) and TLS on every hop
// (--require-tls, --min-tls-version).
#include <optional>
#include <string>
#include <vector>

#include "options/option_set.hpp"
#include "result/status.hpp"

namespace mailprobe {

struct VerdictConfig {
    std::vector<std::string> authserv_ids;  // trusted Authentication-Results authors
    std::vector<std::string> require_auth;  // "spf", "dkim", "dmarc", "arc" that must pass
    Status auth_status = Status::warning;   // for a required method that did not pass
    bool require_tls = false;               // every network hop after the first encrypted
    std::optional<int> min_tls_version;     // as relay::parse_tls_version: 12 = TLS 1.2
    Status tls_status = Status::warning;    // for an unencrypted or too old hop
};

void add_verdict_options(OptionSet& options);
// Throws UsageError on an unknown method, a bad version or a value with control characters.
VerdictConfig verdict_config_from(const ParsedOptions& parsed);

}  // namespace mailprobe
