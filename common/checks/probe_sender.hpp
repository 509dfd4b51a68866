#pragma once
// Gets the probe on its way: through a given SMTP server, through the recipient domain's
// MX hosts in preference order, or through the local sendmail program; retrying after
// temporary (4xx) replies when asked.
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "options/smtp_options.hpp"
#include "probe/probe.hpp"
#include "result/check_result.hpp"
#include "smtp/sender.hpp"

namespace mailprobe::checks {

struct SendReport {
    smtp::SendOutcome outcome;
    std::string via;                       // "SMTP mx.example.org:25" or "sendmail"
    std::optional<curl::Endpoint> server;  // the SMTP server that accepted it
    std::optional<double> dns_s;           // MX discovery time, when used
    std::vector<std::string> tried;        // one line per attempt that failed
    int retries = 0;
    bool sendmail = false;
    std::optional<curl::CertDays> cert_days;  // --cert-days
    std::string return_path;                  // MAIL FROM (sendmail: its -f, if given)
};

// before_data: see smtp::send_message (also honoured before sendmail starts). The envelope
// comes from probe_envelope() (its MAIL FROM is the return path).
SendReport send_probe(const SmtpOptions& options, const smtp::Envelope& envelope,
                      const std::string& message, const Deadline& deadline,
                      const std::function<bool()>& before_data = {});

// The sending stage as a sub-result with its perfdata (smtp_* or submit_time, dns_time).
CheckResult send_stage_result(const SendReport& report);

// How the probe will travel, for its body text.
std::string planned_route(const SmtpOptions& options);

// The probe message for a configuration's sender, recipients and identity.
struct PreparedProbe {
    probe::Probe probe;
    std::string message;
};
PreparedProbe prepare_probe(const SmtpOptions& smtp, const probe::Identity& identity,
                            const std::string& via);

// Default probe name: "<this host>:<first recipient>".
std::string default_probe_name(const SmtpOptions& smtp);

}  // namespace mailprobe::checks
