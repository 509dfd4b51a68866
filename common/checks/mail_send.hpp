#pragma once
// check_mail_send: submit a probe through an SMTP server and judge the submission.
#include "options/option_set.hpp"
#include "options/smtp_options.hpp"
#include "options/standard.hpp"
#include "probe/probe.hpp"
#include "result/check_result.hpp"

namespace mailprobe::checks {

struct MailSendConfig {
    StandardConfig standard;
    SmtpOptions smtp;
    probe::Identity identity;
    std::vector<std::string> warnings;  // notes about the configuration, shown in long output

    static const StandardDefaults& defaults();
    static void declare(OptionSet& options);
    static MailSendConfig from(const ParsedOptions& parsed);
};

CheckResult run_mail_send(const MailSendConfig& config);

}  // namespace mailprobe::checks
