#pragma once
// check_mailbox_receive: watch a mailbox only. Finds the probes that check_mail_send (or
// any sender with the same probe name and key) delivered and judges the newest one's age;
// keeps that one (the next run judges it again) and deletes the older verified ones.
// Or, with --login-only, a plain mailbox login check.
#include "checks/async_check.hpp"
#include "mailbox/session.hpp"
#include "options/option_set.hpp"
#include "options/standard.hpp"
#include "probe/probe.hpp"
#include "result/check_result.hpp"

namespace mailprobe::checks {

struct MailboxReceiveConfig {
    StandardConfig standard;
    mailbox::MailboxConfig mailbox;
    probe::Identity identity;
    bool login_only = false;
    bool keep = false;
    AsyncOptions async;
    std::vector<std::string> warnings;

    static const StandardDefaults& defaults();
    static void declare(OptionSet& options);
    static MailboxReceiveConfig from(const ParsedOptions& parsed);
};

CheckResult run_mailbox_receive(const MailboxReceiveConfig& config);

}  // namespace mailprobe::checks
