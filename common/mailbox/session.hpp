#pragma once
// A mailbox we look for probes in, over IMAP or POP3. The plugins only use this interface.
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/deadline.hpp"
#include "curl/connection.hpp"
#include "mailbox/line_connection.hpp"
#include "probe/probe.hpp"

namespace mailprobe::mailbox {

struct MailboxConfig {
    curl::Endpoint endpoint;  // protocol IMAP or POP3
    curl::TlsOptions tls;
    curl::Credentials credentials;
    std::string folder = "INBOX";           // IMAP only
    std::vector<std::string> junk_folders;  // IMAP only
    double poll_interval_s = 1.0;
    bool use_idle = true;
    int scan_limit = 50;  // POP3: how many of the newest messages are examined

    // "probe@example.org on imap.example.org:993/INBOX" (IMAP) or
    // "probe@example.org on pop.example.org:995 (POP3)", for messages.
    std::string display() const;
};

// Where an earlier stale-probe scan of a folder left off: below `uid` it holds no probe of
// ours that still needs looking at. Only valid while the folder keeps its UIDVALIDITY.
struct ScanMark {
    std::uint32_t uidvalidity = 0;
    std::uint32_t uid = 0;
    bool operator==(const ScanMark&) const = default;
};
using ScanMarks = std::map<std::string, ScanMark>;  // by folder

// A message whose X-Mailprobe tag verified against it with our identity.
struct FoundProbe {
    probe::Probe probe;
    std::string folder;         // where it was (IMAP), "INBOX" for POP3
    std::uint32_t ref = 0;      // IMAP UID or POP3 message number
    std::string header;         // the whole header block (Received fields for relay and --async)
    std::uint64_t session = 0;  // POP3: numbers are only valid in the session that saw them
    std::optional<std::int64_t> arrived_ms;  // IMAP INTERNALDATE: when the mailbox got it
};

// A whole message (header and body), e.g. a delivery status notification.
struct RawMessage {
    std::string folder;
    std::uint32_t ref = 0;      // IMAP UID or POP3 message number
    std::uint64_t session = 0;  // POP3: as FoundProbe::session
    std::string text;
};

class MailboxSession {
public:
    using Clock = std::chrono::steady_clock;
    virtual ~MailboxSession() = default;

    // Connect, log in and open the folder. After open(), a new message can be told apart
    // from those already there (IMAP: UIDNEXT).
    virtual LoginTimes open(const Deadline& deadline) = 0;
    // Every verified probe of this identity in the folder (and junk folders).
    virtual std::vector<FoundProbe> identity_probes(const probe::Identity& identity,
                                                    const Deadline& deadline) = 0;
    // Like identity_probes(), but a folder with a mark is only searched from the mark on;
    // the marks are then moved to where this scan ended (the caller lowers them again to
    // any probe it leaves in place). Without UIDs (POP3): identity_probes().
    virtual std::vector<FoundProbe> stale_candidates(const probe::Identity& identity,
                                                     ScanMarks& marks, const Deadline& deadline) {
        (void)marks;
        return identity_probes(identity, deadline);
    }
    // The probe with this id, if it is visible now.
    virtual std::optional<FoundProbe> find(const probe::Identity& identity, const std::string& id,
                                           const Deadline& deadline) = 0;
    // Returns when the mailbox may have changed, or at `until`. Without allow_idle (or
    // IDLE support) it simply lets the time pass.
    virtual void wait_for_change(const Deadline& until, const Deadline& deadline,
                                 bool allow_idle) = 0;
    // Messages that arrived in the main folder since open() whose text mentions `text` (at
    // most a few). Sessions that cannot tell new mail apart return none.
    virtual std::vector<RawMessage> new_messages_mentioning(const std::string& /*text*/,
                                                            const Deadline& /*deadline*/) {
        return {};
    }
    // Messages in the main folder that arrived on or after that day and mention any of these
    // texts (the newest few). POP3 has no dates: the newest messages that look like bounces.
    virtual std::vector<RawMessage> messages_mentioning(const std::vector<std::string>& /*texts*/,
                                                        std::int64_t /*since_unix_ms*/,
                                                        const Deadline& /*deadline*/) {
        return {};
    }
    // Whether remove() can still address this message (POP3: only within the session that
    // saw it, since numbers change between sessions).
    virtual bool can_remove(const FoundProbe& /*message*/) const { return true; }
    // Deletes exactly these messages (verified probes only, by UID / number).
    virtual void remove(const std::vector<FoundProbe>& probes, const Deadline& deadline) = 0;
    virtual void close(const Deadline& deadline) noexcept = 0;

    // When the server last told us of new mail (IMAP IDLE), if it did.
    virtual std::optional<Clock::time_point> last_change() const = 0;
    virtual bool idle_active() const = 0;
    virtual std::uint32_t message_count() const = 0;
    // Messages the last identity_probes() saw with our name digest whose tag did not verify
    // (typically: the sender uses another probe key).
    virtual std::size_t unverified_probes() const = 0;
    virtual std::vector<std::string> transcript() const = 0;
    virtual std::vector<std::string> notes() const = 0;
    // After remove() on a server that cannot expunge by UID: how many of our probes lie
    // flagged \Deleted in the folders it removed from. nullopt where nothing piles up.
    virtual std::optional<std::uint32_t> flagged_probes() const { return std::nullopt; }
};

std::unique_ptr<MailboxSession> make_session(const MailboxConfig& config);

// How much of a message is fetched to verify it (IMAP: BODY.PEEK[]<0.N>): a probe's header
// with many trace fields plus its body re-encoded; a larger message is never ours.
inline constexpr std::size_t k_verify_bytes = 48 * 1024;
// POP3: body lines fetched (TOP n L) for a message whose header names our probe.
inline constexpr int k_verify_body_lines = 160;

// The header block of a message (up to and including the empty line, if any).
std::string header_block(std::string_view message);

}  // namespace mailprobe::mailbox
