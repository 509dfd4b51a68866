#pragma once
// Which check a probe belongs to (--probe-name) and the HMAC key that proves it.
#include <string>
#include <vector>

#include "options/option_set.hpp"
#include "probe/probe.hpp"

namespace mailprobe {

void add_probe_options(OptionSet& options);
// default_name: used when --probe-name is not given.
probe::Identity probe_identity_from(const ParsedOptions& parsed, const std::string& default_name,
                                    std::vector<std::string>& warnings);

}  // namespace mailprobe
