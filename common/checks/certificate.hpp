#pragma once
// --cert-days WARN[,CRIT]: the server certificate of a connection as a sub-result, with
// the days left as perfdata (unit none) and WARNING/CRITICAL before it expires.
#include <optional>
#include <string>

#include "curl/connection.hpp"
#include "options/option_set.hpp"
#include "result/check_result.hpp"

namespace mailprobe::checks {

// nullopt when --cert-days was not given. label: "smtp_cert_days" or "mailbox_cert_days".
std::optional<CheckResult> certificate_result(const std::string& label, const curl::Endpoint& ep,
                                              const std::optional<curl::CertExpiry>& cert,
                                              const std::optional<curl::CertDays>& limits);

// --cert-days for the client certificate the OAuth2 client signs its assertions with
// (--oauth2-client-certificate): a sub-result with perfdata "oauth2_cert_days", whatever
// stage the run ended in (an expired app credential is how such monitoring dies); when it
// alerts, line 1 names it like any alerting sub-result. Nothing without --cert-days or a
// client certificate.
void add_client_certificate_result(CheckResult& result, const ParsedOptions& parsed);

}  // namespace mailprobe::checks
