#include "checks/probe_sender.hpp"

#include <thread>

#include "checks/certificate.hpp"
#include "core/duration.hpp"
#include "core/host.hpp"
#include "result/failure.hpp"
#include "result/perfdata.hpp"
#include "smtp/sendmail.hpp"

namespace mailprobe::checks {

namespace {

smtp::SendOutcome send_with_retries(const SmtpOptions& o, const smtp::ServerConfig& server,
                                    const smtp::Envelope& envelope, const std::string& message,
                                    const Deadline& deadline,
                                    const std::function<bool()>& before_data, SendReport& report) {
    for (int attempt = 0;; ++attempt) {
        try {
            return smtp::send_message(server, envelope, message, deadline, before_data);
        } catch (const smtp::SendError& e) {
            bool again = e.kind() == smtp::SendError::Kind::temporary &&
                         attempt < o.retry_deferred &&
                         deadline.remaining_s() > o.retry_interval_s + 0.5;
            if (!again && attempt == 0) throw;
            if (!again) {  // say that retrying did not help: the earlier tries are not shown
                CheckFailure last(e.status(), std::string(e.what()) + " (after " +
                                                  std::to_string(attempt) + " retries)");
                last.add_perfdata(e.perfdata());
                last.attach_transcript(e.transcript());
                throw smtp::SendError(e.kind(), last);
            }
            report.tried.push_back(server.endpoint.display() + ": " + e.what() + " (retrying)");
            ++report.retries;
            std::this_thread::sleep_for(
                std::chrono::milliseconds(static_cast<std::int64_t>(o.retry_interval_s * 1000)));
        }
    }
}

std::string resolve_entry(const std::string& host, int port,
                          const std::vector<std::string>& addresses) {
    std::string entry = host + ":" + std::to_string(port) + ":";
    for (std::size_t i = 0; i < addresses.size(); ++i) {
        bool v6 = addresses[i].find(':') != std::string::npos;
        entry += (i ? "," : "") + (v6 ? "[" + addresses[i] + "]" : addresses[i]);
    }
    return entry;
}

SendReport send_via_mx(const SmtpOptions& o, const smtp::Envelope& envelope,
                       const std::string& message, const Deadline& deadline,
                       const std::function<bool()>& before_data) {
    SendReport report;
    const std::string& rcpt = o.envelope.to.front();
    std::string domain = rcpt.substr(rcpt.rfind('@') + 1);
    dns::Resolver resolver(o.dns_server);
    auto mx = resolver.lookup_mx(domain, deadline);
    report.dns_s = mx.elapsed_s;
    if (mx.kind == dns::MxResult::Kind::null_mx) {
        throw critical("domain " + domain + " accepts no mail (null MX)");
    }
    std::optional<smtp::SendError> last;
    std::vector<std::string> transcripts;  // of every host tried, for -vvv
    for (const auto& host : mx.hosts) {
        std::string label =
            host.host + (host.implicit ? " (no MX: address record)"
                                       : " (MX " + std::to_string(host.preference) + ")");
        try {
            smtp::ServerConfig server = o.server;
            server.endpoint.host = host.host;
            server.endpoint.resolve = {
                resolve_entry(host.host, server.endpoint.port,
                              resolver.lookup_addresses(host.host, deadline,
                                                        host.implicit ? "mail host" : "MX"))};
            report.outcome =
                send_with_retries(o, server, envelope, message, deadline, before_data, report);
            report.server = server.endpoint;
            report.via = "SMTP " + server.endpoint.display();
            return report;
        } catch (smtp::SendError& e) {
            report.tried.push_back(label + ": " + e.what());
            if (e.kind() == smtp::SendError::Kind::permanent) {  // 5xx is final (RFC 5321)
                e.add_perfdata({seconds_datum("dns_time", mx.elapsed_s)});
                throw;
            }
            last = e;
            transcripts.insert(transcripts.end(), e.transcript().begin(), e.transcript().end());
        } catch (const CheckFailure& e) {
            report.tried.emplace_back(e.what());  // "MX mx1.example.org has no address (...)"
            transcripts.insert(transcripts.end(), e.transcript().begin(), e.transcript().end());
        }
        if (deadline.expired()) break;
    }
    std::string all;
    for (const auto& t : report.tried) all += (all.empty() ? "" : "; ") + t;
    Status s = last && last->kind() == smtp::SendError::Kind::temporary ? Status::warning
                                                                        : Status::critical;
    CheckFailure failure(s, "no MX host of " + domain + " accepted the probe: " + all);
    failure.add_perfdata({seconds_datum("dns_time", mx.elapsed_s)});
    failure.attach_transcript(std::move(transcripts));
    throw failure;
}

}  // namespace

std::string planned_route(const SmtpOptions& o) {
    if (!o.sendmail.empty()) return "sendmail (" + o.sendmail.front() + ")";
    if (o.host_given) return "SMTP " + o.server.endpoint.display();
    return "the MX hosts of " + o.envelope.to.front().substr(o.envelope.to.front().rfind('@') + 1);
}

SendReport send_probe(const SmtpOptions& o, const smtp::Envelope& envelope,
                      const std::string& message, const Deadline& deadline,
                      const std::function<bool()>& before_data) {
    if (!o.sendmail.empty()) {
        if (before_data && !before_data()) {
            throw critical("probe not sent: the mailbox side failed first");
        }
        // The local queue takes the message at some moment while sendmail runs, and
        // delivery can finish before it exits: the delivery clock starts when it starts.
        auto started = std::chrono::steady_clock::now();
        auto started_ms = probe::unix_now_ms();
        auto argv = o.sendmail;
        if (o.return_path_given) {  // the sendmail interface's envelope sender
            argv.emplace_back("-f");
            argv.push_back(envelope.from);
        }
        auto result = smtp::run_sendmail(argv, message, deadline);
        SendReport r;
        r.sendmail = true;
        if (o.return_path_given) r.return_path = envelope.from;
        r.via = "sendmail";
        r.outcome.total_s = r.outcome.transaction_s = result.total_s;
        r.outcome.accepted_at = started;
        r.outcome.accepted_unix_ms = started_ms;
        r.outcome.reply = result.stderr_text;
        return r;
    }
    SendReport r;
    if (!o.host_given) {
        r = send_via_mx(o, envelope, message, deadline, before_data);
    } else {
        r.outcome = send_with_retries(o, o.server, envelope, message, deadline, before_data, r);
        r.server = o.server.endpoint;
        r.via = "SMTP " + o.server.endpoint.display();
    }
    r.cert_days = o.server.tls.cert_days;
    r.return_path = envelope.from;
    return r;
}

CheckResult send_stage_result(const SendReport& report) {
    CheckResult r;
    const auto& sent = report.outcome;
    if (report.dns_s) r.perfdata.push_back(seconds_datum("dns_time", *report.dns_s));
    if (report.sendmail) {
        r.summary = "handed to sendmail in " + human_duration(sent.total_s);
        r.perfdata.push_back(seconds_datum("submit_time", sent.total_s));
        if (!sent.reply.empty()) r.add_detail("sendmail said: " + sent.reply, Verbosity::verbose);
        if (!report.return_path.empty())
            r.add_detail("bounces go to " + report.return_path, Verbosity::verbose);
        return r;
    }
    const auto& ep = *report.server;
    r.summary = "accepted by " + ep.display() + " in " + human_duration(sent.transaction_s) +
                (sent.queue_id.empty() ? "" : " (queued as " + sent.queue_id + ")");
    if (report.retries > 0) r.summary += " after " + std::to_string(report.retries) + " retries";
    r.perfdata.push_back(seconds_datum("smtp_connect", sent.connect_s));
    if (ep.tls != curl::TlsMode::none) r.perfdata.push_back(seconds_datum("smtp_tls", sent.tls_s));
    r.perfdata.push_back(seconds_datum("smtp_transaction", sent.transaction_s));
    for (const auto& t : report.tried) r.add_detail("tried " + t);
    r.add_detail("server reply: " + sent.reply, Verbosity::verbose);
    r.add_detail("bounces go to " + report.return_path + " (MAIL FROM)", Verbosity::verbose);
    r.add_detail("connect " + human_duration(sent.connect_s) + ", TLS " +
                     human_duration(sent.tls_s) + ", transaction " +
                     human_duration(sent.transaction_s) + ", total " + human_duration(sent.total_s),
                 Verbosity::timings);
    for (const auto& line : sent.transcript) r.add_detail(line, Verbosity::transcript);
    if (auto cert = certificate_result("smtp_cert_days", ep, sent.certificate, report.cert_days)) {
        r.add_child(std::move(*cert));
    }
    return r;
}

std::string default_probe_name(const SmtpOptions& smtp) {
    return local_hostname() + ":" + smtp.envelope.to.front();
}

PreparedProbe prepare_probe(const SmtpOptions& smtp, const probe::Identity& identity,
                            const std::string& via) {
    probe::MessageFields fields{smtp.envelope.from, smtp.envelope.to, smtp.subject_prefix,
                                local_hostname(), via};
    auto made = probe::make_probe_message(identity, probe::unix_now_ms(), fields);
    return PreparedProbe{std::move(made.probe), std::move(made.text)};
}

}  // namespace mailprobe::checks
