#pragma once
// The SMTP side's options, shared by every plugin that sends a probe.
#include <string>
#include <vector>

#include "dns/resolver.hpp"
#include "options/option_set.hpp"
#include "smtp/sender.hpp"

namespace mailprobe {

struct SmtpOptions {
    smtp::ServerConfig server;
    smtp::Envelope envelope;  // envelope.from: the header From (--from)
    // MAIL FROM: where bounces go (--return-path, else --from); with VERP it becomes
    // local+<probe id>@domain, so that a bounce names the probe in its own address.
    std::string return_path;
    bool return_path_given = false;
    bool return_path_verp = false;
    std::string subject_prefix;
    bool host_given = false;            // false: find the server from the recipient's MX records
    std::vector<std::string> sendmail;  // non-empty: submit through this local program
    std::optional<dns::ServerAddress> dns_server;
    // The defaults, stated once: --help, the man pages and the parser use these.
    static constexpr const char* default_subject = "mailprobe";
    static constexpr int default_retry_deferred = 0;
    static constexpr double default_retry_interval_s = 2;
    int retry_deferred = default_retry_deferred;  // retries after a 4xx reply
    double retry_interval_s = default_retry_interval_s;
};

// TLS trust options (--cacert, --insecure) apply to every connection a plugin makes.
void add_tls_trust_options(OptionSet& options);
curl::TlsOptions tls_trust_from(const ParsedOptions& parsed);

void add_smtp_options(OptionSet& options);
SmtpOptions smtp_options_from(const ParsedOptions& parsed, std::vector<std::string>& warnings);

// The SMTP envelope of the probe with this id: MAIL FROM is the return path (VERP applied).
smtp::Envelope probe_envelope(const SmtpOptions& options, const std::string& probe_id);

}  // namespace mailprobe
