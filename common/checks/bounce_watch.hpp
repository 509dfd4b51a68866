#pragma once
// While waiting for the probe: delivery status notifications about it. A permanent failure
// ends the wait at once; a delay is noted and the wait goes on. Only a DSN whose returned
// header carries our verified tag for this probe is ever deleted.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "mailbox/session.hpp"
#include "verdict/dsn.hpp"

namespace mailprobe::checks {

class BounceWatch {
public:
    BounceWatch(mailbox::MailboxSession& session, const probe::Identity& identity,
                std::string probe_id);

    // Looks at messages that arrived since the last look (none new: no command is sent).
    // True once a permanent failure for our probe was seen.
    bool check(const Deadline& deadline);

    const std::optional<verdict::Dsn>& failed() const { return m_failed; }
    const std::vector<verdict::Dsn>& delayed() const { return m_delayed; }
    // DSNs proven to be about our probe (verified tag): the ones that may be deleted.
    const std::vector<mailbox::FoundProbe>& deletable() const { return m_deletable; }
    int ignored() const { return m_ignored; }  // forged or unverifiable DSNs left alone

private:
    mailbox::MailboxSession& m_session;
    const probe::Identity& m_identity;
    std::string m_id;
    std::optional<std::uint32_t> m_last_count;
    std::vector<std::uint32_t> m_seen;
    std::optional<verdict::Dsn> m_failed;
    std::vector<verdict::Dsn> m_delayed;
    std::vector<mailbox::FoundProbe> m_deletable;
    int m_ignored = 0;
};

}  // namespace mailprobe::checks
