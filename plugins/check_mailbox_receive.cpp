// check_mailbox_receive: finds and judges probes in a mailbox (or just logs in).
#include "checks/mailbox_receive.hpp"
#include "plugin/runner.hpp"

int main(int argc, char** argv) {
    using namespace mailprobe;
    PluginSpec spec{"MAILBOX RECEIVE",
                    OptionSet("check_mailbox_receive",
                              "find probes in an IMAP/POP3 mailbox and judge their age")};
    checks::MailboxReceiveConfig::declare(spec.options);
    return run_plugin(spec, argc, argv, [](const ParsedOptions& parsed) {
        const auto config = checks::MailboxReceiveConfig::from(parsed);
        return checks::run_mailbox_receive(config);
    });
}
