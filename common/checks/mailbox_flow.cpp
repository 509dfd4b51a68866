#include "checks/mailbox_flow.hpp"

#include <ctime>

#include "checks/certificate.hpp"
#include "core/duration.hpp"
#include "result/perfdata.hpp"

namespace mailprobe::checks {

int remove_stale_probes(mailbox::MailboxSession& session, const probe::Identity& identity,
                        const std::string& current_id, std::int64_t stale_after_ms,
                        const Deadline& deadline, mailbox::ScanMarks* marks) {
    std::int64_t now = probe::unix_now_ms();
    std::vector<mailbox::FoundProbe> stale;
    auto candidates = marks ? session.stale_candidates(identity, *marks, deadline)
                            : session.identity_probes(identity, deadline);
    for (auto& p : candidates) {
        if (p.probe.id != current_id && now - p.probe.sent_ms > stale_after_ms) {
            stale.push_back(std::move(p));
        } else if (marks && marks->count(p.folder)) {
            // Left in place (a run in progress may still want it): the next scan starts here.
            auto& mark = (*marks)[p.folder];
            mark.uid = std::min(mark.uid, p.ref);
        }
    }
    session.remove(stale, deadline);
    return static_cast<int>(stale.size());
}

std::optional<Arrival> wait_for_probe(mailbox::MailboxSession& session,
                                      const mailbox::MailboxConfig& config,
                                      const probe::Identity& identity, const std::string& id,
                                      const Deadline& wait_until, const Deadline& deadline,
                                      const std::function<bool()>& give_up) {
    auto poll = std::chrono::milliseconds(static_cast<std::int64_t>(config.poll_interval_s * 1000));
    // Most deliveries take tens of milliseconds, and Dovecot holds IDLE notifications back
    // for half a second: look a few times at short, growing intervals before settling
    // into IDLE (or the poll interval).
    static constexpr std::int64_t k_quick_ms[] = {15, 25, 50, 100, 200};
    std::size_t quick = 0;
    for (;;) {
        auto search_start = std::chrono::steady_clock::now();
        if (auto found = session.find(identity, id, deadline)) {
            auto done = std::chrono::steady_clock::now();
            Arrival a{std::move(*found), search_start,
                      std::chrono::duration<double>(done - search_start).count()};
            // With IDLE the server told us the moment it arrived.
            if (auto change = session.last_change(); change && *change <= search_start) {
                a.visible_at = *change;
            }
            return a;
        }
        if (wait_until.expired() || (give_up && give_up())) return std::nullopt;
        if (quick < std::size(k_quick_ms) && std::chrono::milliseconds(k_quick_ms[quick]) < poll) {
            auto pause = std::chrono::milliseconds(k_quick_ms[quick++]);
            session.wait_for_change(wait_until.capped(pause), deadline, false);
            continue;
        }
        // IDLE covers the main folder only: junk folders need polling too.
        bool idle_alone = session.idle_active() && config.junk_folders.empty();
        Deadline until = idle_alone ? wait_until : wait_until.capped(poll);
        session.wait_for_change(until, deadline, true);
    }
}

MailboxStage mailbox_stage(const mailbox::MailboxSession& session,
                           const mailbox::LoginTimes& login) {
    return MailboxStage{login, session.notes(), session.transcript(), session.idle_active(),
                        session.flagged_probes()};
}

CheckResult flagged_result(std::uint32_t count, const std::string& folder) {
    CheckResult r;
    r.perfdata.push_back(count_datum("probes_flagged", count));
    if (count < k_flagged_warning) {
        // A plain EXPUNGE would also remove mail that others flagged: never.
        r.add_detail("note: server lacks UIDPLUS: " + std::to_string(count) +
                     " probe(s) of this check lie flagged \\Deleted in " + folder);
        return r;
    }
    r.status = Status::warning;
    r.summary = std::to_string(count) + " probe(s) of this check lie flagged \\Deleted in " +
                folder + "; expunge them with a mail client when nothing else is flagged " +
                "\\Deleted, or enable UIDPLUS on the server";
    return r;
}

CheckResult mailbox_stage_result(const mailbox::MailboxConfig& config, const MailboxStage& stage) {
    CheckResult r;
    const auto& login = stage.login;
    r.summary = "mailbox: logged in to " + config.display() + " in " +
                human_duration(login.connect_s + login.tls_s + login.login_s);
    r.perfdata.push_back(seconds_datum("mailbox_connect", login.connect_s));
    if (config.endpoint.tls != curl::TlsMode::none) {
        r.perfdata.push_back(seconds_datum("mailbox_tls", login.tls_s));
    }
    r.perfdata.push_back(seconds_datum("mailbox_login", login.login_s));
    for (const auto& note : stage.notes) r.add_detail("note: " + note);
    if (stage.flagged_probes) r.add_child(flagged_result(*stage.flagged_probes, config.folder));
    r.add_detail(std::string("arrival watched with ") + (stage.idle ? "IMAP IDLE" : "polling"),
                 Verbosity::timings);
    for (const auto& line : stage.transcript) r.add_detail(line, Verbosity::transcript);
    if (auto cert = certificate_result("mailbox_cert_days", config.endpoint,
                                       stage.login.certificate, config.tls.cert_days)) {
        r.add_child(std::move(*cert));
    }
    return r;
}

std::string clock_time(std::int64_t unix_ms) {
    std::time_t t = static_cast<std::time_t>(unix_ms / 1000);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%H:%M:%S UTC", &tm);
    return buf;
}

}  // namespace mailprobe::checks
