#include "checks/certificate.hpp"

#include <ctime>

#include "oauth2/client_certificate.hpp"
#include "options/option_set.hpp"
#include "probe/probe.hpp"

namespace mailprobe::checks {

namespace {

std::string date_of(std::int64_t unix_s) {
    std::time_t t = static_cast<std::time_t>(unix_s);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
    return buf;
}

// --cert-days WARN[,CRIT] as ranges on the days left: "WARN:" alerts below WARN.
Thresholds days_thresholds(const curl::CertDays& limits) {
    Thresholds t;
    t.warning = Range::parse(std::to_string(limits.warning) + ":");
    if (limits.critical) t.critical = Range::parse(std::to_string(*limits.critical) + ":");
    return t;
}

CheckResult expiry_result(const std::string& label, const std::string& what,
                          const curl::CertExpiry& cert, const curl::CertDays& limits) {
    CheckResult r;
    std::int64_t days = curl::days_left(cert, probe::unix_now_ms() / 1000);
    const Thresholds thresholds = days_thresholds(limits);
    PerfDatum d;
    d.label = label;
    d.value = static_cast<double>(days);
    d.unit = Unit::none;
    d.warning = thresholds.warning;
    d.critical = thresholds.critical;
    r.perfdata.push_back(d);
    std::string date = date_of(cert.not_after);
    // An expired certificate (a server's only seen with --insecure) is CRITICAL whatever the
    // limits.
    r.status = days < 0 ? Status::critical : thresholds.evaluate(static_cast<double>(days));
    std::string n = std::to_string(days < 0 ? -days : days);
    if (days < 0) {
        r.summary = what + " expired " + n + " days ago (" + date + ")";
    } else if (r.status != Status::ok) {
        r.summary = what + " expires in " + n + " days (" + date + ")";
    } else {
        r.summary = what + " valid for " + n + " more days (until " + date + ")";
    }
    if (!cert.subject.empty()) r.add_detail("subject: " + cert.subject);
    return r;
}

}  // namespace

std::optional<CheckResult> certificate_result(const std::string& label, const curl::Endpoint& ep,
                                              const std::optional<curl::CertExpiry>& cert,
                                              const std::optional<curl::CertDays>& limits) {
    if (!limits) return std::nullopt;
    CheckResult r;
    if (ep.tls == curl::TlsMode::none) {
        r.summary = "TLS certificate: none, " + ep.display() + " was reached without TLS";
        return r;
    }
    if (!cert) {
        r.status = Status::unknown;
        r.summary = "TLS certificate of " + ep.display() + ": expiry date not available";
        return r;
    }
    return expiry_result(label, "TLS certificate of " + ep.display(), *cert, *limits);
}

void add_client_certificate_result(CheckResult& result, const ParsedOptions& parsed) {
    auto days = parsed.get("cert-days");
    auto cert = oauth2::loaded_client_certificate();
    if (!days || !cert) return;
    result.add_child(expiry_result("oauth2_cert_days", "OAuth2 client certificate", *cert,
                                   curl::parse_cert_days(*days)));
}

}  // namespace mailprobe::checks
