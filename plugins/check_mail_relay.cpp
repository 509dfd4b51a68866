// check_mail_relay: a round trip through a relay chain, with every hop measured.
#include "checks/relay.hpp"
#include "plugin/runner.hpp"

int main(int argc, char** argv) {
    using namespace mailprobe;
    PluginSpec spec{
        "MAIL RELAY",
        OptionSet("check_mail_relay", "send a probe through a relay chain and verify every hop")};
    checks::RelayConfig::declare(spec.options);
    return run_plugin(spec, argc, argv, [](const ParsedOptions& parsed) {
        const auto config = checks::RelayConfig::from(parsed);
        return checks::run_relay(config);
    });
}
