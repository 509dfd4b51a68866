#pragma once
// Delivery status notifications about our probes. While waiting for the probe (BounceWatch):
// a permanent failure ends the wait at once; a delay is noted and the wait goes on. Across
// --async runs (find_bounces): DSNs about outstanding probes. Only a DSN whose returned
// message carries our verified tag for an awaited probe is ever deleted.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "mailbox/session.hpp"
#include "verdict/dsn.hpp"

namespace mailprobe::checks {

// What DSNs said about the awaited probes.
struct BounceFindings {
    std::vector<std::pair<std::string, verdict::Dsn>> failed;  // probe id, its bounce
    std::vector<verdict::Dsn> delayed;
    // DSNs proven to be about an awaited probe (verified tag): the ones that may be deleted.
    std::vector<mailbox::FoundProbe> deletable;
    int ignored = 0;  // forged DSNs quoting our name, left alone

    // Classifies one message; true when it is a permanent failure of an awaited probe.
    bool add(const mailbox::RawMessage& message, const probe::Identity& identity,
             const std::vector<std::string>& awaited_ids);
};

class BounceWatch {
public:
    BounceWatch(mailbox::MailboxSession& session, const probe::Identity& identity,
                std::string probe_id);

    // Looks at messages that arrived since the last look (none new: no command is sent).
    // True once a permanent failure for our probe was seen.
    bool check(const Deadline& deadline);

    std::optional<verdict::Dsn> failed() const;
    const std::vector<verdict::Dsn>& delayed() const { return m_found.delayed; }
    const std::vector<mailbox::FoundProbe>& deletable() const { return m_found.deletable; }
    int ignored() const { return m_found.ignored; }

private:
    mailbox::MailboxSession& m_session;
    const probe::Identity& m_identity;
    std::string m_id;
    std::optional<std::uint32_t> m_last_count;
    std::vector<std::uint32_t> m_seen;
    BounceFindings m_found;
};

// --async: DSNs in the mailbox since `since_unix_ms` about any of the outstanding probes.
BounceFindings find_bounces(mailbox::MailboxSession& session, const probe::Identity& identity,
                            const std::vector<std::string>& outstanding_ids,
                            std::int64_t since_unix_ms, const Deadline& deadline);

}  // namespace mailprobe::checks
