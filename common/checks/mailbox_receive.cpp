#include "checks/mailbox_receive.hpp"

#include <algorithm>
#include <chrono>

#include "checks/mailbox_flow.hpp"
#include "core/duration.hpp"
#include "core/error.hpp"
#include "options/mailbox_options.hpp"
#include "options/oauth2_options.hpp"
#include "options/probe_options.hpp"
#include "options/smtp_options.hpp"
#include "result/perfdata.hpp"

namespace mailprobe::checks {

const StandardDefaults& MailboxReceiveConfig::defaults() {
    static const StandardDefaults d{30, "900", "1800", "age of the newest probe in seconds"};
    return d;
}

void MailboxReceiveConfig::declare(OptionSet& o) {
    add_standard_options(o, defaults());
    add_mailbox_options(o);
    o.section("Receive options")
        .flag("login-only", 0,
              "Only log in and open the folder (reports the message count); no probes needed");
    add_async_options(o);
    add_tls_trust_options(o);
    add_oauth2_client_options(o);
    add_probe_options(o);
}

MailboxReceiveConfig MailboxReceiveConfig::from(const ParsedOptions& p) {
    MailboxReceiveConfig c;
    c.login_only = p.has("login-only");
    // The age defaults make no sense for a login: only thresholds given apply (to time).
    static const StandardDefaults login_defaults{defaults().timeout_s, "", "", "login time"};
    c.standard = standard_config(p, c.login_only ? login_defaults : defaults());
    c.mailbox = mailbox_config_from(p, tls_trust_from(p), c.warnings);
    require_oauth2_client_use(p, {&c.mailbox.credentials});
    c.keep = p.has("keep");
    c.async = async_options_from(p);
    if (!c.login_only) {
        if (!p.has("probe-name")) {
            throw UsageError("--probe-name is required: give the name the sender uses");
        }
        c.identity = probe_identity_from(p, "", c.warnings);
    }
    return c;
}

namespace {

CheckResult login_only_result(const MailboxReceiveConfig& c, mailbox::MailboxSession& session,
                              const mailbox::LoginTimes& login, const Deadline& deadline) {
    CheckResult r = mailbox_stage_result(c.mailbox, mailbox_stage(session, login));
    std::vector<std::string> notes;
    notes.reserve(c.warnings.size());
    for (const auto& w : c.warnings) notes.push_back("note: " + w);
    r.details.insert(r.details.begin(), notes.begin(), notes.end());
    double total = deadline.elapsed_s();
    r.status = c.standard.thresholds.evaluate(total);
    std::uint32_t count = session.message_count();
    r.summary = "logged in to " + c.mailbox.display() + " in " + human_duration(total) + ", " +
                std::to_string(count) + " messages";
    r.perfdata.push_back(count_datum("messages", count));
    r.perfdata.push_back(seconds_datum("time", total, &c.standard.thresholds));
    return r;
}

}  // namespace

namespace {

// Nothing verified: either nothing arrived, or it carries another key (say which).
void judge_none_found(const MailboxReceiveConfig& c, std::size_t unverified, CheckResult& r) {
    r.status = Status::critical;
    if (unverified == 0) {
        r.summary = "no probe of check '" + c.identity.name + "' in " + c.mailbox.display();
        return;
    }
    r.summary = std::to_string(unverified) + (unverified == 1 ? " probe" : " probes") + " for '" +
                c.identity.name + "' found but none verifies: the probe secret " +
                "differs from the sender's (--probe-secret-file)";
}

void judge_newest(const MailboxReceiveConfig& c, const std::vector<mailbox::FoundProbe>& probes,
                  const mailbox::FoundProbe& newest, std::size_t removed, CheckResult& r) {
    // The sender's clock may run ahead of ours: a negative age is reported as 0.
    double age = std::max<double>(
        0, static_cast<double>(probe::unix_now_ms() - newest.probe.sent_ms) / 1000.0);
    r.status = c.standard.thresholds.evaluate(age);
    r.summary = "newest probe " + human_duration(age) + " old (sent " +
                clock_time(newest.probe.sent_ms) + "); " + std::to_string(probes.size()) +
                " found" + (removed > 0 ? ", " + std::to_string(removed) + " older deleted" : "");
    if (newest.folder != c.mailbox.folder) {
        r.status = worst(r.status, Status::warning);
        r.summary += "; newest was in " + newest.folder;
    }
    for (const auto& p : probes) {
        bool kept = c.keep || &p == &newest;
        r.add_detail("probe " + p.probe.id + " sent " + clock_time(p.probe.sent_ms) + " in " +
                         p.folder + (kept ? ", kept" : ", deleted"),
                     Verbosity::verbose);
    }
    r.perfdata.push_back(seconds_datum("probe_age", age, &c.standard.thresholds));
}

}  // namespace

// Without --async the newest verified probe stays in the mailbox, so that the next run
// (before the sender's next probe) judges its age again: a receiver running more often than
// the sender stays OK, and WARNING/CRITICAL follow -w/-c once the sender stops.
CheckResult run_mailbox_receive(const MailboxReceiveConfig& c) {
    if (c.async.enabled && !c.login_only) {
        AsyncParams params{c.standard, c.mailbox, c.identity, c.async, AsyncMode::watch_only,
                           nullptr,    0.0,       c.keep};
        return run_async(params).result;
    }
    Deadline deadline = Deadline::for_timeout(c.standard.timeout_s);
    auto session = mailbox::make_session(c.mailbox);
    auto login = session->open(deadline);
    if (c.login_only) {
        auto r = login_only_result(c, *session, login, deadline);
        session->close(deadline);
        return r;
    }
    auto probes = session->identity_probes(c.identity, deadline);
    CheckResult result;
    for (const auto& w : c.warnings) result.add_detail("note: " + w);
    auto newest = std::max_element(probes.begin(), probes.end(), [](const auto& a, const auto& b) {
        return a.probe.sent_ms < b.probe.sent_ms;
    });
    std::vector<mailbox::FoundProbe> older;
    for (auto it = probes.begin(); it != probes.end(); ++it)
        if (it != newest) older.push_back(*it);
    auto t0 = std::chrono::steady_clock::now();
    if (!c.keep) session->remove(older, deadline);
    double delete_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    // mailbox_stage_result's summary already starts with "mailbox: "
    result.add_child(mailbox_stage_result(c.mailbox, mailbox_stage(*session, login)));
    std::size_t unverified = session->unverified_probes();
    session->close(deadline);
    result.perfdata.push_back(count_datum("probes_found", static_cast<double>(probes.size())));
    if (probes.empty()) {
        judge_none_found(c, unverified, result);
    } else {
        judge_newest(c, probes, *newest, c.keep ? 0 : older.size(), result);
        if (unverified > 0)
            result.add_detail("note: " + std::to_string(unverified) +
                              " message(s) for this probe name did not verify with our "
                              "probe secret");
    }
    if (!c.keep) result.perfdata.push_back(seconds_datum("mailbox_delete", delete_s));
    result.perfdata.push_back(seconds_datum("time", deadline.elapsed_s()));
    return result;
}

}  // namespace mailprobe::checks
