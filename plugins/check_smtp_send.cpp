// check_smtp_send: sends a tagged probe message through an SMTP server.
#include "checks/smtp_send.hpp"
#include "plugin/runner.hpp"

int main(int argc, char** argv) {
    using namespace mailprobe;
    PluginSpec spec{"SMTP SEND", OptionSet("check_smtp_send",
                                           "send a tagged probe message through an SMTP server")};
    checks::SmtpSendConfig::declare(spec.options);
    return run_plugin(spec, argc, argv, [](const ParsedOptions& parsed) {
        const auto config = checks::SmtpSendConfig::from(parsed);
        return checks::run_smtp_send(config);
    });
}
