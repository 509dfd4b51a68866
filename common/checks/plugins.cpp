#include "checks/plugins.hpp"

#include "checks/mailbox_receive.hpp"
#include "checks/relay.hpp"
#include "checks/roundtrip.hpp"
#include "checks/mail_send.hpp"

namespace mailprobe::checks {

namespace {

// Builds an entry whose check parses the options into the plugin's const config once.
template <typename Config, typename Run>
PluginEntry entry(const char* service, const char* program, const char* description, Run run) {
    PluginEntry e{PluginSpec{service, OptionSet(program, description)}, {}};
    Config::declare(e.spec.options);
    e.check = [run](const ParsedOptions& parsed) {
        const Config config = Config::from(parsed);
        return run(config);
    };
    return e;
}

}  // namespace

PluginEntry mail_send_plugin() {
    return entry<MailSendConfig>("MAIL SEND", "check_mail_send",
                                 "send a tagged probe message through an SMTP server",
                                 run_mail_send);
}

PluginEntry roundtrip_plugin() {
    return entry<RoundTripConfig>("MAIL ROUNDTRIP", "check_mail_roundtrip",
                                  "send a probe and wait for it in an IMAP/POP3 mailbox",
                                  run_roundtrip);
}

PluginEntry relay_plugin() {
    return entry<RelayConfig>("MAIL RELAY", "check_mail_relay",
                              "send a probe through a relay chain and verify every hop", run_relay);
}

PluginEntry mailbox_receive_plugin() {
    return entry<MailboxReceiveConfig>("MAILBOX RECEIVE", "check_mailbox_receive",
                                       "find probes in an IMAP/POP3 mailbox and judge their age",
                                       run_mailbox_receive);
}

std::vector<PluginEntry> all_plugins() {
    return {mail_send_plugin(), roundtrip_plugin(), relay_plugin(), mailbox_receive_plugin()};
}

}  // namespace mailprobe::checks
