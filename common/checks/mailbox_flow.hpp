#pragma once
// The mailbox half shared by check_mail_roundtrip, check_mail_relay and
// check_mailbox_receive: log in, clear our stale probes, wait for one probe, delete it.
#include <chrono>
#include <functional>
#include <memory>
#include <optional>

#include "mailbox/session.hpp"
#include "result/check_result.hpp"

namespace mailprobe::checks {

using SteadyTime = std::chrono::steady_clock::time_point;

// Deletes verified probes of this identity sent more than stale_after_ms ago (runs that
// never found theirs); younger ones may belong to a run still in progress. Returns the count.
// With marks, only mail newer than each folder's mark is searched (see StaleScanMemory), and
// the marks end up below every probe left in place.
int remove_stale_probes(mailbox::MailboxSession& session, const probe::Identity& identity,
                        const std::string& current_id, std::int64_t stale_after_ms,
                        const Deadline& deadline, mailbox::ScanMarks* marks = nullptr);

struct Arrival {
    mailbox::FoundProbe found;
    SteadyTime visible_at;  // when the server first showed it to us
    double search_s = 0;    // the search that found it
};

// Looks for the probe now, then after each change notification (IDLE) or poll interval,
// until wait_until passes, or until `give_up` (asked after each look that did not find it)
// says so, e.g. because the probe bounced.
std::optional<Arrival> wait_for_probe(mailbox::MailboxSession& session,
                                      const mailbox::MailboxConfig& config,
                                      const probe::Identity& identity, const std::string& id,
                                      const Deadline& wait_until, const Deadline& deadline,
                                      const std::function<bool()>& give_up = {});

// What the mailbox stage reports, kept after the session is closed.
struct MailboxStage {
    mailbox::LoginTimes login;
    std::vector<std::string> notes;
    std::vector<std::string> transcript;
    bool idle = false;
    std::optional<std::uint32_t> flagged_probes;  // see MailboxSession::flagged_probes()
};

// Probes flagged \Deleted that pile up on a server without UIDPLUS: perfdata
// probes_flagged, a note, and WARNING from k_flagged_warning on (its summary then reaches
// line 1 through the mailbox stage).
inline constexpr std::uint32_t k_flagged_warning = 100;
CheckResult flagged_result(std::uint32_t count, const std::string& folder);

MailboxStage mailbox_stage(const mailbox::MailboxSession& session,
                           const mailbox::LoginTimes& login);

// Perfdata (mailbox_connect, mailbox_tls, mailbox_login) and long output of the stage.
CheckResult mailbox_stage_result(const mailbox::MailboxConfig& config, const MailboxStage& stage);

// "14:02:03" (UTC) for a Unix time in ms.
std::string clock_time(std::int64_t unix_ms);

}  // namespace mailprobe::checks
