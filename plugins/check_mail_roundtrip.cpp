// check_mail_roundtrip: sends a tagged probe over SMTP and waits for it in a mailbox.
#include "checks/roundtrip.hpp"
#include "plugin/runner.hpp"

int main(int argc, char** argv) {
    using namespace mailprobe;
    PluginSpec spec{"MAIL ROUNDTRIP",
                    OptionSet("check_mail_roundtrip",
                              "send a probe over SMTP and wait for it in an IMAP/POP3 mailbox")};
    checks::RoundTripConfig::declare(spec.options);
    return run_plugin(spec, argc, argv, [](const ParsedOptions& parsed) {
        const auto config = checks::RoundTripConfig::from(parsed);
        return checks::run_roundtrip(config);
    });
}
