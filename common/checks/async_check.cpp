#include "checks/async_check.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "checks/bounce_watch.hpp"
#include "checks/mailbox_flow.hpp"
#include "checks/probe_sender.hpp"
#include "core/duration.hpp"
#include "relay/received.hpp"
#include "result/perfdata.hpp"
#include "state/store.hpp"

namespace mailprobe::checks {

std::optional<std::int64_t> arrival_ms(const std::string& header) {
    auto hops = relay::received_path(header);
    for (auto it = hops.rbegin(); it != hops.rend(); ++it) {
        if (it->received.time) return *it->received.time * 1000;
    }
    return std::nullopt;
}

namespace {

struct Collected {
    int delivered = 0;
    AsyncFindings findings;
    std::vector<std::string> notes;
    std::optional<mailbox::FoundProbe> newest;
};

bool watch_only(const AsyncParams& a) {
    return a.mode == AsyncMode::watch_only;
}

// The last delivery is that of the newest probe: several collected in one run arrive in
// mailbox order, and an old, late one must not hide the current latency.
void record_delivery(state::CheckState& st, const probe::Probe& p, std::int64_t seen_ms) {
    if (!st.last_delivery || p.sent_ms >= st.last_delivery->sent_ms)
        st.last_delivery = state::LastDelivery{p.id, p.sent_ms, seen_ms, seen_ms - p.sent_ms};
    ++st.delivered_total;
    std::erase_if(st.outstanding, [&](const auto& o) { return o.id == p.id; });
}

// Outstanding probes that bounced are closed as bounced (not lost later); the DSNs proven
// ours join the messages to delete. Only the newest few are looked for: one search.
void collect_bounces(const AsyncParams& a, mailbox::MailboxSession& session, state::CheckState& st,
                     Collected& c, std::vector<mailbox::FoundProbe>& remove,
                     const Deadline& deadline) {
    static constexpr std::size_t k_max_ids = 20;
    std::vector<std::string> ids;
    std::int64_t since = probe::unix_now_ms();
    for (auto it = st.outstanding.rbegin(); it != st.outstanding.rend() && ids.size() < k_max_ids;
         ++it) {
        ids.push_back(it->id);
        since = std::min(since, it->sent_ms);
    }
    auto found = find_bounces(session, a.identity, ids, since, deadline);
    for (auto& failed : found.failed) {
        const std::string& id = failed.first;
        const auto& dsn = failed.second;
        auto it = std::find_if(st.outstanding.begin(), st.outstanding.end(),
                               [&](const auto& o) { return o.id == id; });
        if (it == st.outstanding.end()) continue;  // a second DSN for the same probe
        c.findings.bounced.push_back(verdict::describe(dsn) + " (probe sent " +
                                     clock_time(it->sent_ms) + ")");
        c.notes.push_back("probe " + id + " sent " + clock_time(it->sent_ms) +
                          " closed as bounced");
        st.outstanding.erase(it);
    }
    c.findings.delayed = std::move(found.delayed);
    c.findings.dsn_ignored = found.ignored;
    for (auto& dsn : found.deletable) {
        if (session.can_remove(dsn)) remove.push_back(std::move(dsn));
    }
}

// Steps (1) and (2): probes that arrived are recorded (state saved before they are
// deleted, so a kill in between never counts one twice); too old ones are lost.
Collected collect(const AsyncParams& a, mailbox::MailboxSession& session, state::LockedState& lock,
                  state::CheckState& st, const Deadline& deadline) {
    Collected c;
    std::int64_t now = probe::unix_now_ms();
    std::vector<mailbox::FoundProbe> remove;
    for (auto& p : session.identity_probes(a.identity, deadline)) {
        bool expected = std::any_of(st.outstanding.begin(), st.outstanding.end(),
                                    [&](const auto& o) { return o.id == p.probe.id; });
        // Watching a mailbox only, every probe newer than the last one counted is news.
        bool news =
            watch_only(a) && (!st.last_delivery || p.probe.sent_ms > st.last_delivery->sent_ms);
        if (expected || news) {
            // The mailbox's own arrival time where it has one (IMAP), else the last
            // relay's Received date, else now (an upper bound).
            auto seen = p.arrived_ms ? p.arrived_ms : arrival_ms(p.header);
            record_delivery(st, p.probe, seen.value_or(now));
            ++c.delivered;
            if (!c.newest || p.probe.sent_ms > c.newest->probe.sent_ms) c.newest = p;
            remove.push_back(std::move(p));
        } else if (watch_only(a) ||
                   now - p.probe.sent_ms > static_cast<std::int64_t>(a.standard.timeout_s * 1000)) {
            remove.push_back(std::move(p));  // counted before (a run killed before deleting)
        }
    }
    if (!watch_only(a)) collect_bounces(a, session, st, c, remove, deadline);
    for (auto it = st.outstanding.begin(); it != st.outstanding.end();) {
        if (static_cast<double>(now - it->sent_ms) / 1000.0 > a.async.give_up_s) {
            c.notes.push_back("probe " + it->id + " sent " + clock_time(it->sent_ms) +
                              " lost (not delivered within " + human_duration(a.async.give_up_s) +
                              ")");
            ++c.findings.lost;
            ++st.lost_total;
            it = st.outstanding.erase(it);
        } else {
            ++it;
        }
    }
    lock.save(st);
    if (!a.keep) session.remove(remove, deadline);
    return c;
}

}  // namespace

namespace {

struct Fresh {
    std::optional<probe::Probe> probe;
    std::optional<SendReport> sent;
    std::optional<double> delivered_s;  // hybrid: found within --wait
    std::optional<mailbox::FoundProbe> found;
    std::optional<verdict::Dsn> bounce;  // hybrid: it bounced within --wait
    std::vector<verdict::Dsn> delays;
};

// Step (3): the fresh probe is recorded as outstanding before it is sent, so that a run
// killed while sending never forgets it (it is then, at worst, reported lost).
Fresh send_fresh(const AsyncParams& a, mailbox::MailboxSession& session, state::LockedState& lock,
                 state::CheckState& st, const Deadline& deadline) {
    Fresh f;
    auto prepared = prepare_probe(*a.smtp, a.identity, planned_route(*a.smtp));
    f.probe = prepared.probe;
    st.outstanding.push_back({prepared.probe.id, prepared.probe.sent_ms, planned_route(*a.smtp)});
    lock.save(st);
    try {
        f.sent = send_probe(*a.smtp, probe_envelope(*a.smtp, prepared.probe.id), prepared.message,
                            deadline);
    } catch (...) {
        std::erase_if(st.outstanding, [&](const auto& o) { return o.id == prepared.probe.id; });
        lock.save(st);
        throw;
    }
    if (a.wait_s <= 0) return f;
    auto wait_ms = static_cast<std::int64_t>(a.wait_s * 1000);
    Deadline until = deadline.capped(std::chrono::milliseconds(wait_ms));
    BounceWatch bounces(session, a.identity, prepared.probe.id);
    auto arrival = wait_for_probe(session, a.mailbox, a.identity, prepared.probe.id, until,
                                  deadline, [&] { return bounces.check(deadline); });
    f.delays = bounces.delayed();
    if (!arrival) {
        f.bounce = bounces.failed();
        if (f.bounce) {  // closed as bounced, like one found by a later run
            std::erase_if(st.outstanding, [&](const auto& o) { return o.id == prepared.probe.id; });
            lock.save(st);
            if (!a.keep) session.remove(bounces.deletable(), deadline);
        }
        return f;
    }
    f.delivered_s = std::max(
        0.0,
        std::chrono::duration<double>(arrival->visible_at - f.sent->outcome.accepted_at).count());
    auto seen = prepared.probe.sent_ms + static_cast<std::int64_t>(*f.delivered_s * 1000);
    record_delivery(st, prepared.probe, seen);
    st.last_delivery->delay_ms = static_cast<std::int64_t>(*f.delivered_s * 1000);
    lock.save(st);
    if (!a.keep) session.remove({arrival->found}, deadline);
    f.found = arrival->found;
    return f;
}

}  // namespace

namespace {

double seconds_since(std::int64_t from_ms, std::int64_t now_ms) {
    return static_cast<double>(now_ms - from_ms) / 1000.0;
}

// The oldest outstanding probe when it is beyond -w/-c, else the last delivery.
void judge_delivery(AsyncMode mode, const Thresholds& th, const std::string& check_name,
                    const state::CheckState& st, const std::string& fresh_id, std::int64_t now_ms,
                    CheckResult& r) {
    const bool send = mode == AsyncMode::send_and_watch;
    const state::OutstandingProbe* oldest = nullptr;
    for (const auto& o : st.outstanding) {
        if (o.id == fresh_id) continue;  // the probe just sent cannot be late yet
        if (!oldest || o.sent_ms < oldest->sent_ms) oldest = &o;
    }
    std::string count = std::to_string(st.outstanding.size()) + " outstanding";
    if (oldest && th.evaluate(seconds_since(oldest->sent_ms, now_ms)) != Status::ok) {
        double age = seconds_since(oldest->sent_ms, now_ms);
        r.status = th.evaluate(age);
        r.summary = "probe sent " + clock_time(oldest->sent_ms) + " not delivered after " +
                    human_duration(age) + "; " + count;
    } else if (st.last_delivery) {
        double delay =
            static_cast<double>(std::max<std::int64_t>(0, st.last_delivery->delay_ms)) / 1000.0;
        double age = seconds_since(st.last_delivery->sent_ms, now_ms);
        // Watching a mailbox only, silence itself is the symptom: judge the newest probe's age.
        r.status = th.evaluate(send ? delay : age);
        r.summary = (send ? "last probe delivered in " + human_duration(delay)
                          : "newest probe " + human_duration(age) + " old") +
                    " (sent " + clock_time(st.last_delivery->sent_ms) + "); " + count;
    } else {
        r.status = send ? Status::ok : Status::critical;
        r.summary = send ? "no delivery measured yet; " + count
                         : "no probe of check '" + check_name + "' seen yet";
    }
}

// An alert of this run: a leading sub-result, named in front of the judgement on line 1.
void add_alert(CheckResult& r, Status status, std::string summary) {
    CheckResult& alert = r.add_child({});
    alert.status = status;
    alert.summary = std::move(summary);
    alert.leads = true;
}

}  // namespace

CheckResult judge_async(AsyncMode mode, const Thresholds& thresholds, const std::string& check_name,
                        const state::CheckState& state, const AsyncFindings& findings,
                        std::int64_t now_ms) {
    CheckResult r;
    judge_delivery(mode, thresholds, check_name, state, findings.fresh_id, now_ms, r);
    if (!findings.bounced.empty()) {
        const auto more = findings.bounced.size() - 1;
        add_alert(r, Status::critical,
                  findings.bounced.front() +
                      (more ? " (and " + std::to_string(more) + " more bounced)" : ""));
    }
    if (!findings.delayed.empty())
        add_alert(r, Status::warning, verdict::describe(findings.delayed.front()));
    if (findings.lost > 0)
        add_alert(r, Status::critical, std::to_string(findings.lost) + " probe(s) lost");
    if (findings.dsn_ignored > 0)
        r.add_detail("ignored " + std::to_string(findings.dsn_ignored) +
                     " DSN(s) quoting a probe tag that does not verify");
    return r;
}

AsyncOutcome run_async(const AsyncParams& a) {
    if (!watch_only(a) && a.smtp == nullptr)
        throw std::logic_error("run_async: send_and_watch without SMTP options");
    Deadline deadline = Deadline::for_timeout(a.standard.timeout_s);
    auto dir = state::StateDir::open(a.async.state_dir);
    auto lock = state::LockedState::acquire(dir, a.identity.name, deadline);
    auto st = lock.load();
    auto session = mailbox::make_session(a.mailbox);
    auto login = session->open(deadline);
    Collected collected = collect(a, *session, lock, st, deadline);
    Fresh fresh;
    if (!watch_only(a)) fresh = send_fresh(a, *session, lock, st, deadline);
    AsyncFindings& found = collected.findings;
    if (fresh.bounce) {
        found.bounced.push_back(verdict::describe(*fresh.bounce) + " (the fresh probe)");
        collected.notes.push_back("probe " + fresh.probe->id + " closed as bounced");
    }
    found.delayed.insert(found.delayed.end(), fresh.delays.begin(), fresh.delays.end());
    if (fresh.probe) found.fresh_id = fresh.probe->id;
    session->close(deadline);

    AsyncOutcome out;
    out.result = judge_async(a.mode, a.standard.thresholds, a.identity.name, st, found,
                             probe::unix_now_ms());
    CheckResult& r = out.result;
    for (const auto& n : collected.notes) r.add_detail(n);
    r.add_detail("this run: " + std::to_string(collected.delivered) + " delivered" +
                 (fresh.delivered_s ? " + the fresh probe" : "") + ", " +
                 std::to_string(found.lost) + " lost; state in " + lock.path());
    if (fresh.sent) r.add_child(send_stage_result(*fresh.sent)).summary.insert(0, "send: ");
    r.add_child(mailbox_stage_result(a.mailbox, mailbox_stage(*session, login)));
    if (st.last_delivery) {
        double delay =
            static_cast<double>(std::max<std::int64_t>(0, st.last_delivery->delay_ms)) / 1000.0;
        r.perfdata.push_back(seconds_datum("last_delivery", delay,
                                           watch_only(a) ? nullptr : &a.standard.thresholds));
    }
    r.perfdata.push_back(count_datum("outstanding", static_cast<double>(st.outstanding.size())));
    PerfDatum lost = count_datum("lost", static_cast<double>(st.lost_total));
    lost.unit = Unit::counter;
    r.perfdata.push_back(lost);
    r.perfdata.push_back(
        count_datum("delivered_now", collected.delivered + (fresh.delivered_s ? 1 : 0)));
    r.perfdata.push_back(count_datum("bounced_now", static_cast<double>(found.bounced.size())));
    r.perfdata.push_back(seconds_datum("time", deadline.elapsed_s()));
    if (fresh.found) {
        out.delivered_header = fresh.found->header;
        out.delivered_sent_ms = fresh.found->probe.sent_ms;
    } else if (collected.newest) {
        out.delivered_header = collected.newest->header;
        out.delivered_sent_ms = collected.newest->probe.sent_ms;
    }
    return out;
}

}  // namespace mailprobe::checks
