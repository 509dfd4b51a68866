#include "checks/roundtrip.hpp"

#include <condition_variable>
#include <mutex>
#include <thread>

#include "checks/mailbox_flow.hpp"
#include "core/error.hpp"
#include "options/mailbox_options.hpp"
#include "options/probe_options.hpp"
#include "output/perfdata.hpp"

namespace mailprobe::checks {

const StandardDefaults& RoundTripConfig::defaults() {
    static const StandardDefaults d{50, "10", "30", "delivery time in seconds"};
    return d;
}

void RoundTripConfig::declare(OptionSet& o) {
    add_standard_options(o, defaults());
    add_smtp_options(o, true);
    add_mailbox_options(o);
    o.section("Round trip options")
        .value("wait", 0, "SECONDS", "How long to wait for the probe; must end before --timeout",
               "35");
    add_tls_trust_options(o);
    add_probe_options(o);
}

RoundTripConfig RoundTripConfig::from(const ParsedOptions& p) {
    RoundTripConfig c;
    c.standard = standard_config(p, defaults());
    c.smtp = smtp_options_from(p, true, c.warnings);
    c.mailbox = mailbox_config_from(p, c.smtp.server.tls, c.warnings);
    c.wait_s = p.seconds("wait").value_or(std::min(35.0, c.standard.timeout_s * 0.7));
    if (c.wait_s >= c.standard.timeout_s) {
        throw UsageError("--wait (" + format_number(c.wait_s) +
                         " s) must be shorter than --timeout (" +
                         format_number(c.standard.timeout_s) + " s)");
    }
    c.keep = p.has("keep");
    c.identity = probe_identity_from(p, default_probe_name(c.smtp), c.warnings);
    return c;
}

namespace {

// Lets the SMTP side hold the message body until the mailbox is open, so that the probe
// can only arrive after the mailbox noted where new mail starts.
class ReadyGate {
public:
    void open(bool ok) {
        std::lock_guard lock(m_mutex);
        m_state = ok ? 1 : 2;
        m_cv.notify_all();
    }
    bool wait(const Deadline& deadline) {
        std::unique_lock lock(m_mutex);
        m_cv.wait_until(lock, deadline.end(), [&] { return m_state != 0; });
        return m_state == 1;
    }

private:
    std::mutex m_mutex;
    std::condition_variable m_cv;
    int m_state = 0;
};

struct MailboxSide {
    mailbox::LoginTimes login;
    int stale_removed = 0;
    std::exception_ptr error;
};

}  // namespace

CheckResult run_roundtrip(const RoundTripConfig& c) {
    Deadline deadline = Deadline::after_seconds(c.standard.timeout_s);
    const auto& smtp_ep = c.smtp.server.endpoint;
    auto prepared = prepare_probe(c.smtp, c.identity, "SMTP " + smtp_ep.display());
    auto session = mailbox::make_session(c.mailbox);
    ReadyGate gate;
    MailboxSide side;
    std::int64_t stale_ms = static_cast<std::int64_t>(c.standard.timeout_s * 1000);
    // Log in (and clear old probes) while the probe is being submitted.
    std::thread mailbox_thread([&] {
        try {
            side.login = session->open(deadline);
            gate.open(true);
            side.stale_removed =
                remove_stale_probes(*session, c.identity, prepared.probe.id, stale_ms, deadline);
        } catch (...) {
            side.error = std::current_exception();
            gate.open(false);
        }
    });
    std::optional<smtp::SendOutcome> sent;
    std::exception_ptr send_error;
    try {
        sent = smtp::send_message(c.smtp.server, c.smtp.envelope, prepared.message, deadline,
                                  [&] { return gate.wait(deadline); });
    } catch (...) {
        send_error = std::current_exception();
    }
    mailbox_thread.join();
    if (side.error) std::rethrow_exception(side.error);
    if (send_error) std::rethrow_exception(send_error);

    CheckResult result;
    for (const auto& w : c.warnings) result.details.push_back("note: " + w);
    result.add_child(smtp_stage_result(*sent, smtp_ep, c.standard.verbosity))
        .summary.insert(0, "SMTP: ");
    CheckResult& mbox = result.add_child(
        mailbox_stage_result(c.mailbox, side.login, *session, c.standard.verbosity));
    mbox.summary.insert(0, "mailbox: ");
    if (side.stale_removed > 0) {
        result.details.push_back("removed " + std::to_string(side.stale_removed) +
                                 " stale probe(s) of earlier runs");
    }
    Deadline wait_until = deadline.capped(
        std::chrono::milliseconds(static_cast<std::int64_t>(c.wait_s * 1000) -
                                  static_cast<std::int64_t>(deadline.elapsed_s() * 1000)));
    auto arrival =
        wait_for_probe(*session, c.mailbox, c.identity, prepared.probe.id, wait_until, deadline);
    PerfDatum stale = count_datum("stale_removed", side.stale_removed);
    if (!arrival) {
        session->close(deadline);
        result.status = Status::critical;
        result.summary = "probe " + prepared.probe.id + " sent " +
                         clock_time(prepared.probe.sent_ms) + " via " + smtp_ep.display() +
                         " not in " + c.mailbox.display() + " after " + format_number(c.wait_s) +
                         " s";
        result.perfdata.push_back(stale);
        result.perfdata.push_back(seconds_datum("time", deadline.elapsed_s()));
        return result;
    }
    double delivery = std::max(
        0.0, std::chrono::duration<double>(arrival->visible_at - sent->accepted_at).count());
    double delete_s = 0;
    if (!c.keep) {
        auto t0 = std::chrono::steady_clock::now();
        session->remove({arrival->found}, deadline);
        delete_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }
    session->close(deadline);
    result.status = c.standard.thresholds.evaluate(delivery);
    result.summary = "probe delivered in " + format_number(delivery) + " s (" + smtp_ep.display() +
                     " -> " + c.mailbox.display() + ")";
    if (arrival->found.folder != c.mailbox.folder) {
        result.status = worst(result.status, Status::warning);
        result.summary = "probe delivered to " + arrival->found.folder + " instead of " +
                         c.mailbox.folder + " in " + format_number(delivery) + " s";
    } else if (result.status != Status::ok) {
        result.summary += ", beyond threshold";
    }
    if (side.stale_removed > 0) {
        result.summary += "; removed " + std::to_string(side.stale_removed) + " stale probes";
    }
    if (c.standard.verbosity >= 1) {
        result.details.push_back("probe " + prepared.probe.id + " of check '" + c.identity.name +
                                 "'" + (c.keep ? " kept in the mailbox" : " deleted"));
    }
    result.perfdata.push_back(seconds_datum("delivery", delivery, &c.standard.thresholds));
    result.perfdata.push_back(seconds_datum("mailbox_search", arrival->search_s));
    if (!c.keep) result.perfdata.push_back(seconds_datum("mailbox_delete", delete_s));
    result.perfdata.push_back(stale);
    result.perfdata.push_back(seconds_datum("time", deadline.elapsed_s()));
    return result;
}

}  // namespace mailprobe::checks
