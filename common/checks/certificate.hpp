#pragma once
// --cert-days WARN[,CRIT]: the server certificate of a connection as a sub-result, with
// the days left as perfdata (unit none) and WARNING/CRITICAL before it expires.
#include <optional>
#include <string>

#include "curl/connection.hpp"
#include "result/check_result.hpp"

namespace mailprobe::checks {

// nullopt when --cert-days was not given. label: "smtp_cert_days" or "mailbox_cert_days".
std::optional<CheckResult> certificate_result(const std::string& label, const curl::Endpoint& ep,
                                              const std::optional<curl::CertExpiry>& cert,
                                              const std::optional<curl::CertDays>& limits);

// Appends the words of every alerting certificate sub-result to result's own summary, so
// that the status line says why a run that otherwise succeeded is WARNING or CRITICAL.
void name_certificate_alerts(CheckResult& result);

}  // namespace mailprobe::checks
