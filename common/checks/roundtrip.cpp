#include "checks/roundtrip.hpp"

#include <thread>

#include "checks/bounce_watch.hpp"
#include "checks/ready_gate.hpp"
#include "checks/stale_scan.hpp"
#include "checks/verdicts.hpp"
#include "core/duration.hpp"
#include "options/mailbox_options.hpp"
#include "options/oauth2_options.hpp"
#include "options/probe_options.hpp"
#include "result/failure.hpp"
#include "result/perfdata.hpp"

namespace mailprobe::checks {

const StandardDefaults& RoundTripConfig::defaults() {
    static const StandardDefaults d{50, "10", "30", "delivery time in seconds"};
    return d;
}

void RoundTripConfig::declare(OptionSet& o) {
    add_standard_options(o, defaults());
    add_smtp_options(o);
    add_mailbox_options(o);
    o.section("Round trip options")
        .value("wait", 0, "SECONDS", "How long to wait for the probe; must end before --timeout",
               format_number(default_wait_s) + ", or " +
                   format_number(wait_share_of_timeout * 100) + "% of --timeout if that is less");
    add_async_options(o);
    add_tls_trust_options(o);
    add_oauth2_client_options(o);
    add_probe_options(o);
    add_verdict_options(o);
}

RoundTripConfig RoundTripConfig::from(const ParsedOptions& p) {
    RoundTripConfig c;
    c.standard = standard_config(p, defaults());
    c.smtp = smtp_options_from(p, c.warnings);
    c.mailbox = mailbox_config_from(p, c.smtp.server.tls, c.warnings);
    share_oauth2_client(c.smtp.server.auth, c.mailbox.credentials);
    require_oauth2_client_use(
        p, {c.smtp.server.auth ? &*c.smtp.server.auth : nullptr, &c.mailbox.credentials});
    c.wait_s = p.seconds("wait").value_or(
        std::min(default_wait_s, c.standard.timeout_s * wait_share_of_timeout));
    if (c.wait_s >= c.standard.timeout_s) {
        throw UsageError("--wait (" + format_number(c.wait_s) +
                         " s) must be shorter than --timeout (" +
                         format_number(c.standard.timeout_s) + " s)");
    }
    c.keep = p.has("keep");
    c.async = async_options_from(p);
    c.identity = probe_identity_from(p, default_probe_name(c.smtp), c.warnings);
    c.verdicts = verdict_config_from(p);
    return c;
}

namespace {

// A delayed-delivery DSN makes the run WARNING: a leading sub-result, named first on line 1
// (added before the verdicts, so it leads them too); what was deleted or left alone is said
// in the long output.
void add_dsn_notes(CheckResult& result, const RoundTripRun& run) {
    if (!run.delays.empty()) {
        CheckResult& delay = result.add_child({});
        delay.status = Status::warning;
        delay.summary = verdict::describe(run.delays.front());
        delay.leads = true;
    }
    if (run.dsn_removed > 0)
        result.add_detail("removed " + std::to_string(run.dsn_removed) +
                          " delivery status notification(s) about this probe");
    if (run.dsn_ignored > 0)
        result.add_detail("ignored " + std::to_string(run.dsn_ignored) +
                          " DSN(s) quoting a probe tag that does not verify");
}

double seconds_between(SteadyTime from, SteadyTime to) {
    return std::chrono::duration<double>(to - from).count();
}

// Rethrows a stage's failure with the perfdata of the stages that did complete.
[[noreturn]] void rethrow_with(const std::exception_ptr& error,
                               const std::vector<PerfDatum>& completed) {
    try {
        std::rethrow_exception(error);
    } catch (CheckFailure& e) {
        e.add_perfdata(completed);
        throw;
    }
}

void wait_and_remove(const RoundTripConfig& c, mailbox::MailboxSession& session,
                     BounceWatch& bounces, RoundTripRun& run, const Deadline& deadline) {
    auto wait_ms = static_cast<std::int64_t>((c.wait_s - deadline.elapsed_s()) * 1000);
    Deadline wait_until =
        deadline.capped(std::chrono::milliseconds(std::max<std::int64_t>(0, wait_ms)));
    run.arrival = wait_for_probe(session, c.mailbox, c.identity, run.probe.id, wait_until, deadline,
                                 [&] { return bounces.check(deadline); });
    run.bounce = bounces.failed();
    run.delays = bounces.delayed();
    run.dsn_ignored = bounces.ignored();
    if (run.arrival) {
        run.delivery_s =
            std::max(0.0, seconds_between(run.sent.outcome.accepted_at, run.arrival->visible_at));
    }
    if (c.keep) return;
    // One removal for the probe and the DSNs about it: POP3 deletes only within the session
    // that saw a message (a DSN seen in an earlier POP3 session stays).
    std::vector<mailbox::FoundProbe> doomed;
    if (run.arrival) doomed.push_back(run.arrival->found);
    for (const auto& dsn : bounces.deletable()) {
        if (session.can_remove(dsn)) doomed.push_back(dsn);
    }
    auto t0 = std::chrono::steady_clock::now();
    session.remove(doomed, deadline);
    run.delete_s = seconds_between(t0, std::chrono::steady_clock::now());
    run.dsn_removed = static_cast<int>(doomed.size()) - (run.arrival ? 1 : 0);
}

}  // namespace

RoundTripRun execute_roundtrip(const RoundTripConfig& c, const Deadline& deadline) {
    RoundTripRun run;
    auto prepared = prepare_probe(c.smtp, c.identity, planned_route(c.smtp));
    run.probe = prepared.probe;
    auto session = mailbox::make_session(c.mailbox);
    ReadyGate gate;
    mailbox::LoginTimes login;
    std::exception_ptr mailbox_error, send_error;
    auto stale_ms = static_cast<std::int64_t>(c.standard.timeout_s * 1000);
    StaleScanMemory scan_memory;
    // Log in (and clear old probes) while the probe is being submitted.
    std::jthread mailbox_thread([&] {
        try {
            login = session->open(deadline);
            gate.open();
            scan_memory = StaleScanMemory::load(c.async.state_dir, c.mailbox.display(), c.identity);
            run.stale_removed = remove_stale_probes(*session, c.identity, run.probe.id, stale_ms,
                                                    deadline, &scan_memory.marks());
            scan_memory.save();
        } catch (...) {
            mailbox_error = std::current_exception();
            gate.fail();
        }
    });
    try {
        run.sent = send_probe(c.smtp, probe_envelope(c.smtp, run.probe.id), prepared.message,
                              deadline, [&] { return gate.wait(deadline); });
    } catch (...) {
        send_error = std::current_exception();
    }
    mailbox_thread.join();
    if (mailbox_error) {
        rethrow_with(mailbox_error,
                     send_error ? std::vector<PerfDatum>{} : send_stage_result(run.sent).perfdata);
    }
    if (send_error) {
        rethrow_with(send_error,
                     mailbox_stage_result(c.mailbox, mailbox_stage(*session, login)).perfdata);
    }
    BounceWatch bounces(*session, c.identity, run.probe.id);
    try {
        wait_and_remove(c, *session, bounces, run, deadline);
    } catch (...) {
        auto completed = send_stage_result(run.sent).perfdata;
        auto mailbox = mailbox_stage_result(c.mailbox, mailbox_stage(*session, login));
        completed.insert(completed.end(), mailbox.perfdata.begin(), mailbox.perfdata.end());
        rethrow_with(std::current_exception(), completed);
    }
    session->close(deadline);
    run.mailbox = mailbox_stage(*session, login);
    const auto& scan_notes = scan_memory.notes();
    run.mailbox.notes.insert(run.mailbox.notes.end(), scan_notes.begin(), scan_notes.end());
    return run;
}

CheckResult roundtrip_result(const RoundTripConfig& c, const RoundTripRun& run,
                             const Deadline& deadline) {
    CheckResult result;
    for (const auto& w : c.warnings) result.add_detail("note: " + w);
    result.add_child(send_stage_result(run.sent)).summary.insert(0, "send: ");
    result.add_child(mailbox_stage_result(c.mailbox, run.mailbox));
    add_dsn_notes(result, run);
    if (run.stale_removed > 0) {
        result.add_detail("removed " + std::to_string(run.stale_removed) +
                          " stale probe(s) of earlier runs");
    }
    if (!run.arrival && run.bounce) {
        result.status = Status::critical;
        result.summary = verdict::describe(*run.bounce);
        result.add_detail("probe " + run.probe.id + " sent " + clock_time(run.probe.sent_ms) +
                          " via " + run.sent.via);
    } else if (!run.arrival) {
        result.status = Status::critical;
        result.summary = "probe " + run.probe.id + " sent " + clock_time(run.probe.sent_ms) +
                         " via " + run.sent.via + " not in " + c.mailbox.display() + " after " +
                         human_duration(c.wait_s);
    } else {
        result.status = c.standard.thresholds.evaluate(run.delivery_s);
        result.summary = "probe delivered in " + human_duration(run.delivery_s) + " (" +
                         run.sent.via + " -> " + c.mailbox.display() + ")";
        if (run.arrival->found.folder != c.mailbox.folder) {
            result.status = worst(result.status, Status::warning);
            result.summary = "probe delivered to " + run.arrival->found.folder + " instead of " +
                             c.mailbox.folder + " in " + human_duration(run.delivery_s);
        } else if (result.status != Status::ok) {
            result.summary += ", beyond threshold";
        }
        result.add_detail("probe " + run.probe.id + " of check '" + c.identity.name + "'" +
                              (c.keep ? " kept in the mailbox" : " deleted"),
                          Verbosity::verbose);
        result.perfdata.push_back(
            seconds_datum("delivery", run.delivery_s, &c.standard.thresholds));
        result.perfdata.push_back(seconds_datum("mailbox_search", run.arrival->search_s));
        if (!c.keep) result.perfdata.push_back(seconds_datum("mailbox_delete", run.delete_s));
        add_delivery_verdicts(result, run.arrival->found.header, c.verdicts);
    }
    if (run.stale_removed > 0) {
        result.summary += "; removed " + std::to_string(run.stale_removed) + " stale probes";
    }
    result.perfdata.push_back(count_datum("stale_removed", run.stale_removed));
    result.perfdata.push_back(seconds_datum("time", deadline.elapsed_s()));
    return result;
}

AsyncOutcome run_roundtrip_async(const RoundTripConfig& c) {
    AsyncParams params{c.standard,
                       c.mailbox,
                       c.identity,
                       c.async,
                       AsyncMode::send_and_watch,
                       &c.smtp,
                       c.async.wait_given ? c.wait_s : 0.0,
                       c.keep};
    auto out = run_async(params);
    if (out.delivered_header) add_delivery_verdicts(out.result, *out.delivered_header, c.verdicts);
    for (const auto& w : c.warnings)
        out.result.details.insert(out.result.details.begin(), "note: " + w);
    return out;
}

CheckResult run_roundtrip(const RoundTripConfig& c) {
    if (c.async.enabled) return run_roundtrip_async(c).result;
    Deadline deadline = Deadline::for_timeout(c.standard.timeout_s);
    auto run = execute_roundtrip(c, deadline);
    return roundtrip_result(c, run, deadline);
}

}  // namespace mailprobe::checks
