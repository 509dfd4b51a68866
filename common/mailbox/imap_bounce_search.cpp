// The bounce searches of ImapSession: mail that mentions a probe of this run (its id or
// VERP address), for the DSN classification in verdict/dsn. Kept apart from the probe
// search in imap_session.cpp.
#include <algorithm>
#include <ctime>

#include "mailbox/imap_parse.hpp"
#include "mailbox/imap_session.hpp"

namespace mailprobe::mailbox {

std::vector<RawMessage> ImapSession::new_messages_mentioning(const std::string& text,
                                                             const Deadline& deadline) {
    if (m_uidnext == 0) return {};
    select(m_config.folder, deadline);
    auto uids =
        search("UID " + std::to_string(m_uidnext) + ":* TEXT " + imap::quote(text), deadline);
    std::erase_if(uids, [&](std::uint32_t uid) { return uid < m_uidnext; });
    return newest_messages(uids, 5, deadline);
}

std::vector<RawMessage> ImapSession::messages_mentioning(const std::vector<std::string>& texts,
                                                         std::int64_t since_unix_ms,
                                                         const Deadline& deadline) {
    if (texts.empty()) return {};
    select(m_config.folder, deadline);
    // "OR TEXT c OR TEXT b TEXT a": one OR before each text but the first.
    std::string any;
    for (std::size_t i = texts.size() - 1; i > 0; --i) {
        any += "OR TEXT ";
        any += imap::quote(texts[i]);
        any += ' ';
    }
    any += "TEXT ";
    any += imap::quote(texts.front());
    // SINCE compares dates in the server's time zone: a day earlier covers any zone.
    const std::time_t t = static_cast<std::time_t>(since_unix_ms / 1000) - 86400;
    std::tm tm{};
    gmtime_r(&t, &tm);
    static constexpr const char* k_months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                               "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    const std::string since = std::to_string(tm.tm_mday) + "-" + k_months[tm.tm_mon % 12] + "-" +
                              std::to_string(tm.tm_year + 1900);
    return newest_messages(search("SINCE " + since + " " + any, deadline), 10, deadline);
}

std::vector<RawMessage> ImapSession::newest_messages(std::vector<std::uint32_t> uids,
                                                     std::size_t limit, const Deadline& deadline) {
    if (uids.size() > limit)
        uids.erase(uids.begin(), uids.end() - static_cast<std::ptrdiff_t>(limit));
    // TEXT, not BODY: Dovecot's BODY does not look into the headers of an attached
    // message/rfc822, where a DSN quotes our X-Mailprobe field. The first k_verify_bytes hold
    // a DSN's notification, status part and the returned header.
    std::vector<RawMessage> out;
    for (auto& f : fetch_messages(uids, deadline)) {
        if (std::find(uids.begin(), uids.end(), f.uid) == uids.end()) continue;
        out.push_back(RawMessage{m_config.folder, f.uid, 0, std::move(f.message)});
    }
    return out;
}

}  // namespace mailprobe::mailbox
