#pragma once
// IMAP over our own line connection: SELECT, UID SEARCH restricted to messages newer than
// the session start, FETCH of header and body start to verify, IDLE (or NOOP polls), and
// deletion by exact UID. Untagged responses are accepted at every point of every command.
#include <functional>
#include <map>
#include <set>

#include "mailbox/session.hpp"

namespace mailprobe::mailbox {

class ImapSession : public MailboxSession {
public:
    explicit ImapSession(MailboxConfig config);

    LoginTimes open(const Deadline& deadline) override;
    std::vector<FoundProbe> identity_probes(const probe::Identity& identity,
                                            const Deadline& deadline) override;
    std::vector<FoundProbe> stale_candidates(const probe::Identity& identity, ScanMarks& marks,
                                             const Deadline& deadline) override;
    std::optional<FoundProbe> find(const probe::Identity& identity, const std::string& id,
                                   const Deadline& deadline) override;
    void wait_for_change(const Deadline& until, const Deadline& deadline, bool allow_idle) override;
    void remove(const std::vector<FoundProbe>& probes, const Deadline& deadline) override;
    void close(const Deadline& deadline) noexcept override;

    std::optional<Clock::time_point> last_change() const override { return m_last_change; }
    bool idle_active() const override { return m_idle; }
    std::uint32_t message_count() const override { return m_exists; }
    std::size_t unverified_probes() const override { return m_unverified; }
    std::vector<std::string> transcript() const override;
    std::vector<std::string> notes() const override { return m_notes; }
    std::optional<std::uint32_t> flagged_probes() const override;

    std::vector<RawMessage> new_messages_mentioning(const std::string& text,
                                                    const Deadline& deadline) override;
    std::vector<RawMessage> messages_mentioning(const std::vector<std::string>& texts,
                                                std::int64_t since_unix_ms,
                                                const Deadline& deadline) override;

private:
    using Untagged = std::function<void(const std::string& line, const std::string* literal)>;
    struct Response {
        std::string line;  // with any literals replaced by a space
        std::string literal;
        bool has_literal = false;
    };

    // One response line with its literals; `received` caps what one command may take.
    Response read_response(const Deadline& deadline, const std::string& stage,
                           std::size_t& received);
    // Sends one command and reads to its tagged reply; NO/BAD throw naming `stage`.
    void command(const std::string& text, const Deadline& deadline, const std::string& stage,
                 const Untagged& on_untagged = {});
    void check_tagged(const std::string& line, const std::string& tag,
                      const std::string& stage) const;
    void track(const std::string& line);  // EXISTS / EXPUNGE / BYE bookkeeping
    std::string mailbox_arg(const std::string& folder) const;
    void select(const std::string& folder, const Deadline& deadline);
    void idle(const Deadline& until, const Deadline& deadline);
    std::vector<FoundProbe> scan(const probe::Identity& identity, ScanMarks* marks,
                                 const Deadline& deadline);
    void count_flagged(const std::string& folder, const Deadline& deadline);
    std::vector<std::uint32_t> search(const std::string& criteria, const Deadline& deadline);
    struct Fetched {
        std::uint32_t uid;
        std::string message;  // its first k_verify_bytes: header and the start of the body
        std::optional<std::int64_t> internaldate_ms;
    };
    std::vector<Fetched> fetch_messages(const std::vector<std::uint32_t>& uids,
                                        const Deadline& deadline);
    // The newest `limit` of these messages, each as fetch_messages() gets it.
    std::vector<RawMessage> newest_messages(std::vector<std::uint32_t> uids, std::size_t limit,
                                            const Deadline& deadline);
    std::vector<FoundProbe> verified(const std::vector<std::uint32_t>& uids,
                                     const probe::Identity& identity, const std::string& folder,
                                     const Deadline& deadline);

    MailboxConfig m_config;
    LineConnection m_conn;
    unsigned m_tag = 0;
    std::set<std::string> m_caps;
    std::string m_selected;
    bool m_selected_once = false;
    std::uint32_t m_selected_uidnext = 0;  // as the SELECT of m_selected reported them
    std::uint32_t m_selected_uidvalidity = 0;
    bool m_utf8 = false;  // UTF8=ACCEPT enabled: mailbox names go as UTF-8
    std::map<std::string, std::uint32_t> m_flagged;  // our probes left \Deleted, by folder
    // Whose probes were last looked for: remove() only gets probes found that way, and the
    // pile-up it counts must verify like any other probe.
    std::optional<probe::Identity> m_identity;
    std::uint32_t m_exists = 0;
    std::uint64_t m_arrivals = 0;  // EXISTS notices that announced new mail
    std::uint32_t m_uidnext = 0;   // of m_config.folder at open(): our probe's UID is >= this
    bool m_idle = false;
    bool m_open = false;
    std::optional<Clock::time_point> m_last_change;
    std::vector<std::string> m_notes;
    std::size_t m_unverified = 0;
};

}  // namespace mailprobe::mailbox
