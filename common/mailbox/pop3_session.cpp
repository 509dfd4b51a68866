#include "mailbox/pop3_session.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <thread>

#include "core/sanitize.hpp"
#include "result/failure.hpp"

namespace mailprobe::mailbox {

namespace {
constexpr std::size_t k_max_reply = 4u << 20;

// Another session (a concurrent check, a mail client) expunged the message after our STAT:
// Dovecot says "-ERR Message 12 expunged.", others "no such message" or "deleted".
bool vanished(std::string_view reply) {
    std::string lower(reply);
    for (auto& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return lower.starts_with("-err") && (lower.find("expunged") != std::string::npos ||
                                         lower.find("deleted") != std::string::npos ||
                                         lower.find("no such message") != std::string::npos);
}
}  // namespace

LoginTimes Pop3Session::open(const Deadline& deadline) {
    m_conn =
        std::make_unique<LineConnection>(m_config.endpoint, m_config.tls, m_config.credentials);
    LoginTimes times = m_conn->open(deadline);
    ++m_generation;
    std::string stat = command("STAT", deadline, "STAT");
    // "+OK 12 34567": only the count matters; sizes are never trusted.
    std::string_view rest(stat);
    rest.remove_prefix(std::min<std::size_t>(4, rest.size()));
    auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), m_count);
    if (ec != std::errc()) {
        throw m_conn->failure("POP3 server " + m_config.endpoint.display() +
                              " sent a malformed STAT reply: " + sanitize_text(stat));
    }
    if (!m_baseline) m_baseline = m_count;
    return times;
}

void Pop3Session::ensure_open(const Deadline& deadline) {
    if (!m_conn) open(deadline);
}

std::string Pop3Session::command(const std::string& text, const Deadline& deadline,
                                 const std::string& stage) {
    m_conn->send_line(text, deadline, stage + " response");
    std::string reply = m_conn->read_line(deadline, stage + " response");
    if (!reply.starts_with("+OK")) {
        throw m_conn->failure("POP3 " + stage + " failed on " + m_config.endpoint.display() + ": " +
                              sanitize_text(reply));
    }
    return reply;
}

std::string Pop3Session::multiline(const Deadline& deadline, const std::string& stage) {
    std::string body;
    for (;;) {
        std::string line = m_conn->read_line(deadline, stage + " response");
        if (line == ".") return body;
        if (line.starts_with(".")) line.erase(0, 1);  // dot-stuffing
        body += line + "\r\n";
        if (body.size() > k_max_reply) {
            throw m_conn->failure("POP3 server " + m_config.endpoint.display() +
                                  " sent more than 4 MiB in reply to " + stage);
        }
    }
}

std::vector<FoundProbe> Pop3Session::scan(const probe::Identity& identity,
                                          const std::string& stop_id, const Deadline& deadline) {
    ensure_open(deadline);
    std::vector<FoundProbe> out;
    m_unverified = 0;
    auto limit = static_cast<std::uint32_t>(std::max(1, m_config.scan_limit));
    std::uint32_t lowest = m_count > limit ? m_count - limit + 1 : 1;
    for (std::uint32_t n = m_count; n >= lowest && n > 0; --n) {
        auto header = top(n, 0, deadline);
        // Only a header naming our probe is worth its body: the tag covers the body too.
        if (!header || !probe::candidate_header(identity, *header)) continue;
        auto message = top(n, k_verify_body_lines, deadline);
        if (!message) continue;
        if (auto p = probe::verify_message(identity, *message)) {
            out.push_back(
                FoundProbe{*p, "INBOX", n, header_block(*message), m_generation, std::nullopt});
            if (p->id == stop_id) break;
        } else {
            ++m_unverified;  // the header names our probe: another key
        }
    }
    return out;
}

std::optional<std::string> Pop3Session::top(std::uint32_t n, int lines, const Deadline& deadline) {
    std::string stage = "TOP " + std::to_string(n);
    m_conn->send_line(stage + " " + std::to_string(lines), deadline, stage + " response");
    std::string reply = m_conn->read_line(deadline, stage + " response");
    if (vanished(reply)) return std::nullopt;  // gone meanwhile: not ours to count or delete
    if (!reply.starts_with("+OK")) {
        throw m_conn->failure("POP3 " + stage + " failed on " + m_config.endpoint.display() + ": " +
                              sanitize_text(reply));
    }
    return multiline(deadline, stage);
}

std::vector<FoundProbe> Pop3Session::identity_probes(const probe::Identity& identity,
                                                     const Deadline& deadline) {
    return scan(identity, "", deadline);
}

std::optional<FoundProbe> Pop3Session::find(const probe::Identity& identity, const std::string& id,
                                            const Deadline& deadline) {
    for (auto& p : scan(identity, id, deadline)) {
        if (p.probe.id == id) return p;
    }
    return std::nullopt;
}

std::vector<RawMessage> Pop3Session::new_messages_mentioning(const std::string& text,
                                                             const Deadline& deadline) {
    // A DSN's explanation, status part and the returned probe fit in far fewer lines; a
    // longer message is read only this far.
    static constexpr int k_dsn_lines = 400;
    static constexpr std::uint32_t k_max_messages = 5;
    ensure_open(deadline);
    std::vector<RawMessage> out;
    const std::uint32_t base = m_baseline.value_or(m_count);
    const std::uint32_t newest_few = m_count > k_max_messages ? m_count - k_max_messages + 1 : 1;
    const std::uint32_t lowest = std::max(base + 1, newest_few);
    for (std::uint32_t n = m_count; n >= lowest && n > 0; --n) {
        auto message = top(n, k_dsn_lines, deadline);
        if (message && message->find(text) != std::string::npos)
            out.push_back(RawMessage{"INBOX", n, m_generation, std::move(*message)});
    }
    return out;
}

std::vector<RawMessage> Pop3Session::messages_mentioning(const std::vector<std::string>& texts,
                                                         std::int64_t /*since_unix_ms*/,
                                                         const Deadline& deadline) {
    static constexpr int k_dsn_lines = 400;
    static constexpr std::size_t k_max_messages = 10;
    const auto mentions = [&](std::string_view text) {
        return std::any_of(texts.begin(), texts.end(), [&](const std::string& t) {
            return text.find(t) != std::string_view::npos;
        });
    };
    ensure_open(deadline);
    std::vector<RawMessage> out;
    const auto limit = static_cast<std::uint32_t>(std::max(1, m_config.scan_limit));
    const std::uint32_t lowest = m_count > limit ? m_count - limit + 1 : 1;
    for (std::uint32_t n = m_count; n >= lowest && n > 0 && out.size() < k_max_messages; --n) {
        auto header = top(n, 0, deadline);
        if (!header) continue;
        std::string lower(*header);
        for (auto& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        // Only a header that looks like a bounce (or names a probe: VERP) is worth its body.
        const bool bounce_like = lower.find("multipart/report") != std::string::npos ||
                                 lower.find("mailer-daemon") != std::string::npos ||
                                 lower.find("x-failed-recipients") != std::string::npos;
        if (!bounce_like && !mentions(*header)) continue;
        auto message = top(n, k_dsn_lines, deadline);
        if (message && mentions(*message))
            out.push_back(RawMessage{"INBOX", n, m_generation, std::move(*message)});
    }
    return out;
}

void Pop3Session::wait_for_change(const Deadline& until, const Deadline& deadline, bool) {
    // The maildrop only shows new mail to a new session.
    if (m_conn) quit(deadline);
    std::this_thread::sleep_for(std::chrono::milliseconds(until.remaining_ms()));
    ensure_open(deadline);
}

void Pop3Session::remove(const std::vector<FoundProbe>& probes, const Deadline& deadline) {
    if (probes.empty()) return;
    for (const auto& p : probes) {
        // Message numbers from another session may now name someone else's mail.
        if (!m_conn || p.session != m_generation) {
            throw unknown("internal error: POP3 message number from an earlier session");
        }
    }
    for (const auto& p : probes) {
        command("DELE " + std::to_string(p.ref), deadline, "DELE " + std::to_string(p.ref));
    }
    // POP3 applies deletions only when QUIT succeeds; the messages there before we began
    // then number fewer.
    quit(deadline);
    if (m_baseline) {
        for (const auto& p : probes) {
            if (p.ref <= *m_baseline && *m_baseline > 0) --*m_baseline;
        }
    }
}

void Pop3Session::quit(const Deadline& deadline) {
    try {
        command("QUIT", deadline, "QUIT");
    } catch (...) {
        keep_transcript();
        m_conn.reset();
        throw;
    }
    keep_transcript();
    m_conn.reset();
}

std::vector<std::string> Pop3Session::transcript() const {
    std::vector<std::string> out = m_transcript;  // of the sessions already closed
    if (m_conn) {
        for (const auto& line : m_conn->transcript().lines()) {
            if (out.size() < 400) out.push_back(line);
        }
    }
    return out;
}

void Pop3Session::keep_transcript() {
    if (!m_conn) return;
    for (const auto& line : m_conn->transcript().lines()) {
        if (m_transcript.size() < 400) m_transcript.push_back(line);
    }
}

void Pop3Session::close(const Deadline& deadline) noexcept {
    if (!m_conn) return;
    try {
        quit(deadline);
    } catch (...) {
    }
}

}  // namespace mailprobe::mailbox
