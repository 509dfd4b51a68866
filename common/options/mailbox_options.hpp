#pragma once
// The mailbox side's options, shared by every plugin that reads a mailbox.
#include <string>
#include <vector>

#include "mailbox/session.hpp"
#include "options/option_set.hpp"

namespace mailprobe {

void add_mailbox_options(OptionSet& options);
// tls: the trust options shared with the SMTP side.
mailbox::MailboxConfig mailbox_config_from(const ParsedOptions& parsed, const curl::TlsOptions& tls,
                                           std::vector<std::string>& warnings);

// "imaps://user@host:993/Folder" -> fields of the config (those the URL names).
void apply_mailbox_url(const std::string& url, mailbox::MailboxConfig& config, bool& tls_given,
                       bool& port_given);

}  // namespace mailprobe
