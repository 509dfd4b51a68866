#include "options/probe_options.hpp"

#include "core/error.hpp"
#include "core/secrets.hpp"
#include "state/store.hpp"
#include "state/user_dir.hpp"

namespace mailprobe {

void add_probe_options(OptionSet& o) {
    o.section("Probe options")
        .value("probe-name", 0, "NAME",
               "Check identity the probe belongs to; checks with different names never touch "
               "each other's probes. Give the same name to sender and receiver",
               "HOSTNAME:FIRST-RECIPIENT")
        .value("probe-secret-file", 0, "FILE",
               "HMAC key that proves a probe is ours; copy it to every machine that sends or "
               "receives the same probes (default: STATE-DIR/probe.key, created on first use)")
        .value("state-dir", 0, "DIR",
               "Directory for the probe key and async state (or MAILPROBE_STATE_DIR)",
               std::string(state::default_state_base) + "/USER");
}

probe::Identity probe_identity_from(const ParsedOptions& p, const std::string& default_name,
                                    std::vector<std::string>& warnings) {
    probe::Identity id;
    id.name = p.get_or("probe-name", default_name);
    if (id.name.empty() || id.name.size() > 200 ||
        id.name.find_first_of("\r\n") != std::string::npos) {
        throw UsageError("--probe-name must be one line of 1 to 200 characters");
    }
    if (auto file = p.get("probe-secret-file")) {
        id.key = state::read_key_file(*file, warnings);
    } else {
        id.key = state::StateDir::open(p.get("state-dir")).load_or_create_key();
    }
    secrets::register_secret(id.key);
    return id;
}

}  // namespace mailprobe
