#include "checks/mail_send.hpp"

#include "checks/probe_sender.hpp"

#include "core/duration.hpp"
#include "options/oauth2_options.hpp"
#include "options/probe_options.hpp"
#include "result/perfdata.hpp"

namespace mailprobe::checks {

const StandardDefaults& MailSendConfig::defaults() {
    static const StandardDefaults d{20, "", "", "total SMTP time in seconds"};
    return d;
}

void MailSendConfig::declare(OptionSet& o) {
    add_standard_options(o, defaults());
    add_smtp_options(o);
    add_tls_trust_options(o);
    add_oauth2_client_options(o);
    add_probe_options(o);
}

MailSendConfig MailSendConfig::from(const ParsedOptions& p) {
    MailSendConfig c;
    c.standard = standard_config(p, defaults());
    c.smtp = smtp_options_from(p, c.warnings);
    require_oauth2_client_use(p, {c.smtp.server.auth ? &*c.smtp.server.auth : nullptr});
    c.identity = probe_identity_from(p, default_probe_name(c.smtp), c.warnings);
    return c;
}

CheckResult run_mail_send(const MailSendConfig& c) {
    Deadline deadline = Deadline::for_timeout(c.standard.timeout_s);
    auto prepared = prepare_probe(c.smtp, c.identity, planned_route(c.smtp));
    auto report =
        send_probe(c.smtp, probe_envelope(c.smtp, prepared.probe.id), prepared.message, deadline);

    CheckResult result = send_stage_result(report);
    for (const auto& w : c.warnings) result.details.insert(result.details.begin(), "note: " + w);
    result.details.insert(result.details.begin(), Detail("probe " + prepared.probe.id +
                                                             " of check '" + c.identity.name + "'",
                                                         Verbosity::verbose));
    double total = deadline.elapsed_s();
    result.status = c.standard.thresholds.evaluate(total);
    result.summary.insert(0, "probe ");
    if (result.status != Status::ok) {
        result.summary += ", total " + human_duration(total) + " beyond threshold";
    }
    result.perfdata.push_back(seconds_datum("time", total, &c.standard.thresholds));
    return result;
}

}  // namespace mailprobe::checks
