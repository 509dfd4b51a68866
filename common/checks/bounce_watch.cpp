#include "checks/bounce_watch.hpp"

#include <algorithm>

namespace mailprobe::checks {

bool BounceFindings::add(const mailbox::RawMessage& m, const probe::Identity& identity,
                         const std::vector<std::string>& awaited_ids) {
    auto dsn = verdict::parse_dsn(m.text);
    if (!dsn) return false;
    const auto ref = verdict::refers_to(*dsn, identity, awaited_ids);
    if (ref.match == verdict::DsnMatch::not_ours) return false;
    if (ref.match == verdict::DsnMatch::forged) {
        ++ignored;
        return false;
    }
    if (ref.match == verdict::DsnMatch::ours) {
        mailbox::FoundProbe found;
        found.folder = m.folder;
        found.ref = m.ref;
        found.session = m.session;
        found.probe.id = ref.probe_id;
        deletable.push_back(std::move(found));
    }
    if (dsn->action == verdict::DsnAction::failed) {
        failed.emplace_back(ref.probe_id, std::move(*dsn));
        return true;
    }
    if (dsn->action == verdict::DsnAction::delayed) delayed.push_back(std::move(*dsn));
    return false;
}

BounceWatch::BounceWatch(mailbox::MailboxSession& session, const probe::Identity& identity,
                         std::string probe_id)
    : m_session(session), m_identity(identity), m_id(std::move(probe_id)) {}

std::optional<verdict::Dsn> BounceWatch::failed() const {
    if (m_found.failed.empty()) return std::nullopt;
    return m_found.failed.front().second;
}

bool BounceWatch::check(const Deadline& deadline) {
    if (!m_found.failed.empty()) return true;
    const std::uint32_t count = m_session.message_count();
    if (m_last_count && *m_last_count == count) return false;  // nothing new arrived
    m_last_count = count;
    for (auto& m : m_session.new_messages_mentioning(m_id, deadline)) {
        if (std::find(m_seen.begin(), m_seen.end(), m.ref) != m_seen.end()) continue;
        m_seen.push_back(m.ref);
        if (m_found.add(m, m_identity, {m_id})) return true;
    }
    return false;
}

BounceFindings find_bounces(mailbox::MailboxSession& session, const probe::Identity& identity,
                            const std::vector<std::string>& outstanding_ids,
                            std::int64_t since_unix_ms, const Deadline& deadline) {
    BounceFindings found;
    if (outstanding_ids.empty()) return found;
    for (const auto& m : session.messages_mentioning(outstanding_ids, since_unix_ms, deadline)) {
        found.add(m, identity, outstanding_ids);
    }
    return found;
}

}  // namespace mailprobe::checks
