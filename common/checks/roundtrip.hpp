#pragma once
// check_mail_roundtrip: send a probe, find it in the mailbox, measure, delete only it.
#include "checks/smtp_send.hpp"
#include "mailbox/session.hpp"

namespace mailprobe::checks {

struct RoundTripConfig {
    StandardConfig standard;
    SmtpOptions smtp;
    mailbox::MailboxConfig mailbox;
    probe::Identity identity;
    double wait_s = 30;
    bool keep = false;
    std::vector<std::string> warnings;

    static const StandardDefaults& defaults();
    static void declare(OptionSet& options);
    static RoundTripConfig from(const ParsedOptions& parsed);
};

CheckResult run_roundtrip(const RoundTripConfig& config);

}  // namespace mailprobe::checks
