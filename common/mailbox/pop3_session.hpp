#pragma once
// POP3: the maildrop is a snapshot taken at login, so new mail needs a new session.
// Probes are looked for newest first with TOP n 0, and a header naming our probe is
// verified with its body (TOP n 160); deletion is DELE n confirmed by QUIT.
#include "mailbox/session.hpp"

namespace mailprobe::mailbox {

class Pop3Session : public MailboxSession {
public:
    explicit Pop3Session(MailboxConfig config) : m_config(std::move(config)) {}

    LoginTimes open(const Deadline& deadline) override;
    std::vector<FoundProbe> identity_probes(const probe::Identity& identity,
                                            const Deadline& deadline) override;
    std::optional<FoundProbe> find(const probe::Identity& identity, const std::string& id,
                                   const Deadline& deadline) override;
    void wait_for_change(const Deadline& until, const Deadline& deadline, bool allow_idle) override;
    // Messages numbered above the count at the first login (less those we deleted since).
    std::vector<RawMessage> new_messages_mentioning(const std::string& text,
                                                    const Deadline& deadline) override;
    // The newest messages (--scan-limit) whose header looks like a bounce, or names a text.
    std::vector<RawMessage> messages_mentioning(const std::vector<std::string>& texts,
                                                std::int64_t since_unix_ms,
                                                const Deadline& deadline) override;
    bool can_remove(const FoundProbe& message) const override {
        return m_conn && message.session == m_generation;
    }
    void remove(const std::vector<FoundProbe>& probes, const Deadline& deadline) override;
    void close(const Deadline& deadline) noexcept override;

    std::optional<Clock::time_point> last_change() const override { return std::nullopt; }
    bool idle_active() const override { return false; }
    std::uint32_t message_count() const override { return m_count; }
    std::size_t unverified_probes() const override { return m_unverified; }
    std::vector<std::string> transcript() const override;
    std::vector<std::string> notes() const override { return {}; }

private:
    void ensure_open(const Deadline& deadline);
    std::string command(const std::string& text, const Deadline& deadline,
                        const std::string& stage);
    std::string multiline(const Deadline& deadline, const std::string& stage);
    // Verified probes among the newest messages, newest first; stops at `stop_id`.
    std::vector<FoundProbe> scan(const probe::Identity& identity, const std::string& stop_id,
                                 const Deadline& deadline);
    // TOP n <lines>: header and that many body lines; nullopt when the message is gone.
    std::optional<std::string> top(std::uint32_t n, int lines, const Deadline& deadline);
    void quit(const Deadline& deadline);
    void keep_transcript();

    MailboxConfig m_config;
    std::unique_ptr<LineConnection> m_conn;
    std::uint32_t m_count = 0;
    std::optional<std::uint32_t> m_baseline;  // messages there before this check began
    std::uint64_t m_generation = 0;
    std::vector<std::string> m_transcript;
    std::size_t m_unverified = 0;  // of the last scan
};

}  // namespace mailprobe::mailbox
