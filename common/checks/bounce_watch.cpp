#include "checks/bounce_watch.hpp"

#include <algorithm>

namespace mailprobe::checks {

BounceWatch::BounceWatch(mailbox::MailboxSession& session, const probe::Identity& identity,
                         std::string probe_id)
    : m_session(session), m_identity(identity), m_id(std::move(probe_id)) {}

bool BounceWatch::check(const Deadline& deadline) {
    if (m_failed) return true;
    const std::uint32_t count = m_session.message_count();
    if (m_last_count && *m_last_count == count) return false;  // nothing new arrived
    m_last_count = count;
    for (auto& m : m_session.new_messages_mentioning(m_id, deadline)) {
        if (std::find(m_seen.begin(), m_seen.end(), m.ref) != m_seen.end()) continue;
        m_seen.push_back(m.ref);
        auto dsn = verdict::parse_dsn(m.text);
        if (!dsn) continue;
        const auto ref = verdict::refers_to(*dsn, m_identity, {m_id});
        if (ref.match == verdict::DsnMatch::not_ours) continue;
        if (ref.match == verdict::DsnMatch::forged) {
            ++m_ignored;
            continue;
        }
        if (ref.match == verdict::DsnMatch::ours) {
            mailbox::FoundProbe found;
            found.folder = m.folder;
            found.ref = m.ref;
            found.probe.id = m_id;
            m_deletable.push_back(std::move(found));
        }
        if (dsn->action == verdict::DsnAction::failed) {
            m_failed = std::move(dsn);
            return true;
        }
        if (dsn->action == verdict::DsnAction::delayed) m_delayed.push_back(std::move(*dsn));
    }
    return false;
}

}  // namespace mailprobe::checks
