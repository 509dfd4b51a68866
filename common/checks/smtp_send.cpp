#include "checks/smtp_send.hpp"

#include "core/host.hpp"
#include "options/probe_options.hpp"
#include "output/perfdata.hpp"

namespace mailprobe::checks {

const StandardDefaults& SmtpSendConfig::defaults() {
    static const StandardDefaults d{20, "", "", "total SMTP time in seconds"};
    return d;
}

void SmtpSendConfig::declare(OptionSet& o) {
    add_standard_options(o, defaults());
    add_smtp_options(o, true);
    add_tls_trust_options(o);
    add_probe_options(o);
}

SmtpSendConfig SmtpSendConfig::from(const ParsedOptions& p) {
    SmtpSendConfig c;
    c.standard = standard_config(p, defaults());
    c.smtp = smtp_options_from(p, true, c.warnings);
    c.identity = probe_identity_from(p, default_probe_name(c.smtp), c.warnings);
    return c;
}

std::string default_probe_name(const SmtpOptions& smtp) {
    return local_hostname() + ":" + smtp.envelope.to.front();
}

PreparedProbe prepare_probe(const SmtpOptions& smtp, const probe::Identity& identity,
                            const std::string& via) {
    PreparedProbe p;
    p.probe = probe::make_probe(identity, probe::unix_now_ms());
    probe::MessageFields fields{smtp.envelope.from, smtp.envelope.to, smtp.subject_prefix,
                                local_hostname(), via};
    p.message = probe::build_message(p.probe, identity.name, fields);
    return p;
}

CheckResult smtp_stage_result(const smtp::SendOutcome& sent, const curl::Endpoint& endpoint,
                              int verbosity) {
    CheckResult r;
    r.summary = "accepted by " + endpoint.display() + " in " + format_number(sent.transaction_s) +
                " s" + (sent.queue_id.empty() ? "" : " (queued as " + sent.queue_id + ")");
    r.perfdata.push_back(seconds_datum("smtp_connect", sent.connect_s));
    if (endpoint.tls != curl::TlsMode::none) {
        r.perfdata.push_back(seconds_datum("smtp_tls", sent.tls_s));
    }
    r.perfdata.push_back(seconds_datum("smtp_transaction", sent.transaction_s));
    if (verbosity >= 1) r.details.push_back("server reply: " + sent.reply);
    if (verbosity >= 2) {
        r.details.push_back("connect " + format_number(sent.connect_s) + " s, TLS " +
                            format_number(sent.tls_s) + " s, transaction " +
                            format_number(sent.transaction_s) + " s, total " +
                            format_number(sent.total_s) + " s");
    }
    if (verbosity >= 3) {
        for (const auto& line : sent.transcript) r.details.push_back(line);
    }
    return r;
}

CheckResult run_smtp_send(const SmtpSendConfig& c) {
    Deadline deadline = Deadline::after_seconds(c.standard.timeout_s);
    const auto& ep = c.smtp.server.endpoint;
    auto prepared = prepare_probe(c.smtp, c.identity, "SMTP " + ep.display());
    auto sent = smtp::send_message(c.smtp.server, c.smtp.envelope, prepared.message, deadline);

    CheckResult result;
    for (const auto& w : c.warnings) result.details.push_back("note: " + w);
    if (c.standard.verbosity >= 1) {
        result.details.push_back("probe " + prepared.probe.id + " of check '" + c.identity.name +
                                 "'");
    }
    CheckResult stage = smtp_stage_result(sent, ep, c.standard.verbosity);
    double total = deadline.elapsed_s();
    result.status = c.standard.thresholds.evaluate(total);
    result.summary = "probe " + stage.summary;
    if (result.status != Status::ok) {
        result.summary += ", total " + format_number(total) + " s beyond threshold";
    }
    result.details.insert(result.details.end(), stage.details.begin(), stage.details.end());
    result.perfdata = stage.perfdata;
    result.perfdata.push_back(seconds_datum("time", total, &c.standard.thresholds));
    return result;
}

}  // namespace mailprobe::checks
