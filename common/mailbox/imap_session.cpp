#include "mailbox/imap_session.hpp"

#include <algorithm>

#include "core/sanitize.hpp"
#include "mailbox/imap_parse.hpp"
#include "mailbox/mailbox_name.hpp"
#include "result/failure.hpp"

namespace mailprobe::mailbox {

namespace {
constexpr std::size_t k_max_reply_bytes = 32u << 20;  // per command: more is a hostile server
constexpr std::size_t k_max_literal = 4u << 20;       // a header block larger than this is not ours
constexpr std::size_t k_max_uids = 500;               // candidates examined per search
}  // namespace

ImapSession::ImapSession(MailboxConfig config)
    : m_config(std::move(config)), m_conn(m_config.endpoint, m_config.tls, m_config.credentials) {}

std::vector<std::string> ImapSession::transcript() const {
    auto& lines = const_cast<LineConnection&>(m_conn).transcript().lines();
    return {lines.begin(), lines.end()};
}

void ImapSession::track(const std::string& line) {
    if (auto n = imap::parse_numbered(line, "EXISTS")) {
        if (*n > m_exists) {
            m_last_change = Clock::now();
            ++m_arrivals;
        }
        m_exists = *n;
    } else if (imap::parse_numbered(line, "EXPUNGE")) {
        if (m_exists > 0) --m_exists;
    } else if (line.starts_with("* BYE")) {
        throw m_conn.failure("IMAP server " + m_config.endpoint.display() +
                             " closed the session: " +
                             sanitize_text(line.size() > 6 ? line.substr(6) : "(no text)"));
    }
}

ImapSession::Response ImapSession::read_response(const Deadline& deadline, const std::string& stage,
                                                 std::size_t& received) {
    Response r{m_conn.read_line(deadline, stage + " response"), {}, false};
    received += r.line.size();
    while (auto size = imap::literal_size(r.line)) {
        if (*size > k_max_literal) {
            throw m_conn.failure("IMAP server " + m_config.endpoint.display() + " sent a " +
                                 std::to_string(*size) + " byte literal in reply to " + stage);
        }
        r.literal += m_conn.read_bytes(*size, deadline, stage + " response");
        r.has_literal = true;
        received += *size;
        r.line += " " + m_conn.read_line(deadline, stage + " response");
    }
    if (received > k_max_reply_bytes) {
        throw m_conn.failure("IMAP server " + m_config.endpoint.display() +
                             " sent more than 32 MiB in reply to " + stage);
    }
    return r;
}

void ImapSession::command(const std::string& text, const Deadline& deadline,
                          const std::string& stage, const Untagged& on_untagged) {
    std::string tag = "mp" + std::to_string(++m_tag);
    m_conn.send_line(tag + " " + text, deadline, stage + " response");
    std::size_t received = 0;
    for (;;) {
        Response r = read_response(deadline, stage, received);
        if (r.line.starts_with("* ")) {
            track(r.line);
            if (on_untagged) on_untagged(r.line, r.has_literal ? &r.literal : nullptr);
            continue;
        }
        if (r.line.starts_with("+")) continue;  // no continuation is expected: ignore
        check_tagged(r.line, tag, stage);
        return;
    }
}

void ImapSession::check_tagged(const std::string& line, const std::string& tag,
                               const std::string& stage) const {
    if (!line.starts_with(tag + " ")) {
        throw m_conn.failure("IMAP server " + m_config.endpoint.display() +
                             " sent an unexpected reply to " + stage + ": " + sanitize_text(line));
    }
    std::string status = line.substr(tag.size() + 1);
    if (status.starts_with("OK")) return;
    throw m_conn.failure("IMAP " + stage + " failed on " + m_config.endpoint.display() + ": " +
                         sanitize_text(status));
}

std::string ImapSession::mailbox_arg(const std::string& folder) const {
    // Names are UTF-8 on our side; on the wire modified UTF-7 unless UTF8=ACCEPT is on.
    return imap::quote(m_utf8 ? folder : imap::encode_mailbox_name(folder));
}

LoginTimes ImapSession::open(const Deadline& deadline) {
    LoginTimes times = m_conn.open(deadline);
    m_open = true;
    command("CAPABILITY", deadline, "CAPABILITY", [&](const std::string& line, const std::string*) {
        if (auto caps = imap::parse_capabilities(line)) m_caps.insert(caps->begin(), caps->end());
    });
    if (m_caps.count("UTF8=ACCEPT")) {
        command("ENABLE UTF8=ACCEPT", deadline, "ENABLE",
                [&](const std::string& line, const std::string*) {
                    if (line.starts_with("* ENABLED") && line.find("UTF8=ACCEPT") != line.npos)
                        m_utf8 = true;
                });
    }
    m_idle = m_config.use_idle && m_caps.count("IDLE");
    select(m_config.folder, deadline);
    return times;
}

void ImapSession::select(const std::string& folder, const Deadline& deadline) {
    if (m_selected == folder) return;
    std::uint32_t uidnext = 0, uidvalidity = 0;
    try {
        m_selected.clear();
        command("SELECT " + mailbox_arg(folder), deadline, "SELECT " + folder,
                [&](const std::string& line, const std::string*) {
                    if (auto n = imap::response_code_number(line, "UIDNEXT")) uidnext = *n;
                    if (auto n = imap::response_code_number(line, "UIDVALIDITY")) uidvalidity = *n;
                });
    } catch (const CheckFailure& e) {
        throw m_conn.failure("cannot open folder '" + folder + "' in " + m_config.display() + ": " +
                             e.what());
    }
    // Only the first selection marks where new mail starts.
    if (!m_selected_once && folder == m_config.folder) m_uidnext = uidnext;
    m_selected_once = true;
    m_selected = folder;
    m_selected_uidnext = uidnext;
    m_selected_uidvalidity = uidvalidity;
}

std::vector<std::uint32_t> ImapSession::search(const std::string& criteria,
                                               const Deadline& deadline) {
    std::vector<std::uint32_t> uids;
    command("UID SEARCH " + criteria, deadline, "UID SEARCH",
            [&](const std::string& line, const std::string*) {
                if (auto found = imap::parse_search(line)) {
                    uids.insert(uids.end(), found->begin(), found->end());
                }
            });
    if (uids.size() > k_max_uids) {
        m_notes.push_back("search matched " + std::to_string(uids.size()) +
                          " messages; examined the newest " + std::to_string(k_max_uids));
        uids.erase(uids.begin(), uids.end() - static_cast<std::ptrdiff_t>(k_max_uids));
    }
    return uids;
}

std::vector<ImapSession::Fetched> ImapSession::fetch_messages(
    const std::vector<std::uint32_t>& uids, const Deadline& deadline) {
    std::vector<Fetched> out;
    if (uids.empty()) return out;
    // The tag covers the body too: header and the start of the body in one literal.
    command("UID FETCH " + imap::uid_set(uids) + " (UID INTERNALDATE BODY.PEEK[]<0." +
                std::to_string(k_verify_bytes) + ">)",
            deadline, "UID FETCH", [&](const std::string& line, const std::string* literal) {
                auto uid = imap::fetch_uid(line);
                if (uid && literal) {
                    out.push_back({*uid, *literal, imap::fetch_internaldate_ms(line)});
                }
            });
    return out;
}

std::vector<FoundProbe> ImapSession::verified(const std::vector<std::uint32_t>& uids,
                                              const probe::Identity& identity,
                                              const std::string& folder, const Deadline& deadline) {
    std::vector<FoundProbe> out;
    std::set<std::uint32_t> asked(uids.begin(), uids.end());
    std::set<std::uint32_t> missing = asked;
    std::size_t strays = 0;
    for (auto& f : fetch_messages(uids, deadline)) {
        missing.erase(f.uid);
        if (!asked.count(f.uid)) {  // a UID we did not ask for is never acted on
            ++strays;
            continue;
        }
        if (auto p = probe::verify_message(identity, f.message)) {
            out.push_back(
                FoundProbe{*p, folder, f.uid, header_block(f.message), 0, f.internaldate_ms});
        } else if (probe::candidate_header(identity, header_block(f.message))) {
            ++m_unverified;  // our name, another key
        }
    }
    auto note = [&](std::string text) {
        if (std::find(m_notes.begin(), m_notes.end(), text) == m_notes.end() && m_notes.size() < 20)
            m_notes.push_back(std::move(text));
    };
    if (!missing.empty()) {
        note("IMAP server " + m_config.endpoint.display() + " listed " +
             std::to_string(missing.size()) + " UID(s) in " + folder +
             " that it then did not return (first: " + std::to_string(*missing.begin()) +
             "); ignored");
    }
    if (strays > 0) {
        note("IMAP server " + m_config.endpoint.display() + " returned " + std::to_string(strays) +
             " message(s) we did not ask for; ignored");
    }
    return out;
}

std::vector<FoundProbe> ImapSession::identity_probes(const probe::Identity& identity,
                                                     const Deadline& deadline) {
    m_unverified = 0;
    return scan(identity, nullptr, deadline);
}

std::vector<FoundProbe> ImapSession::stale_candidates(const probe::Identity& identity,
                                                      ScanMarks& marks, const Deadline& deadline) {
    return scan(identity, &marks, deadline);
}

std::vector<FoundProbe> ImapSession::scan(const probe::Identity& identity, ScanMarks* marks,
                                          const Deadline& deadline) {
    m_identity = identity;
    std::vector<FoundProbe> all;
    std::vector<std::string> folders{m_config.folder};
    folders.insert(folders.end(), m_config.junk_folders.begin(), m_config.junk_folders.end());
    for (const auto& folder : folders) {
        select(folder, deadline);
        // Flagged \Deleted is gone for us (servers without UIDPLUS keep such probes).
        std::string criteria =
            "UNDELETED HEADER X-Mailprobe " + imap::quote("n=" + identity.name_digest());
        std::uint32_t from = 0;
        if (marks) {
            auto it = marks->find(folder);
            if (it != marks->end() && m_selected_uidvalidity != 0 &&
                it->second.uidvalidity == m_selected_uidvalidity) {
                from = it->second.uid;
            }
        }
        if (from > 0) {
            std::string range = "UID ";
            range += std::to_string(from);
            range += ":* ";
            criteria.insert(0, range);
        }
        auto uids = search(criteria, deadline);
        bool complete = uids.size() < k_max_uids;  // search() keeps only the newest k_max_uids
        // "n:*" also names the newest message when it is below n (RFC 3501 §6.4.8).
        std::erase_if(uids, [&](std::uint32_t uid) { return uid < from; });
        auto found = verified(uids, identity, folder, deadline);
        all.insert(all.end(), found.begin(), found.end());
        if (!marks) continue;
        if (m_selected_uidvalidity == 0 || m_selected_uidnext == 0) {
            marks->erase(folder);
        } else if (complete) {
            // Everything below UIDNEXT of the SELECT has been looked at now.
            (*marks)[folder] = ScanMark{m_selected_uidvalidity, m_selected_uidnext};
        }
    }
    select(m_config.folder, deadline);
    return all;
}

std::optional<FoundProbe> ImapSession::find(const probe::Identity& identity, const std::string& id,
                                            const Deadline& deadline) {
    m_identity = identity;
    std::string by_id = "HEADER X-Mailprobe " + imap::quote("id=" + id);
    select(m_config.folder, deadline);
    // Only messages that arrived after open(): the cost does not grow with the mailbox.
    std::string range = m_uidnext > 0 ? "UID " + std::to_string(m_uidnext) + ":* " : "";
    // Dovecot answers from its view at the start of the command: mail announced by an
    // EXISTS during the search is only seen by the next one, so look once more at once.
    for (int attempt = 0; attempt < 2; ++attempt) {
        auto arrivals = m_arrivals;
        auto uids = search(range + by_id, deadline);
        std::erase_if(uids, [&](std::uint32_t uid) { return uid < m_uidnext; });
        for (auto& p : verified(uids, identity, m_config.folder, deadline)) {
            if (p.probe.id == id) return p;
        }
        if (m_arrivals == arrivals) break;
    }
    for (const auto& junk : m_config.junk_folders) {
        select(junk, deadline);
        for (auto& p : verified(search(by_id, deadline), identity, junk, deadline)) {
            if (p.probe.id == id) return p;
        }
    }
    return std::nullopt;
}

void ImapSession::wait_for_change(const Deadline& until, const Deadline& deadline,
                                  bool allow_idle) {
    select(m_config.folder, deadline);
    if (!m_idle || !allow_idle) {
        m_conn.wait_readable(until);  // nothing is outstanding: just let the interval pass
        // Servers may announce new mail only on NOOP, CHECK or IDLE (RFC 3501 §6.1.2):
        // without this a poll can search a view that never shows the probe.
        command("NOOP", deadline, "NOOP");
        return;
    }
    idle(until, deadline);
}

void ImapSession::idle(const Deadline& until, const Deadline& deadline) {
    // Counted arrivals, not the message count: other checks expunging their probes
    // lower the count, and a new message may then not raise it above where it began.
    // Counted from before IDLE: an EXISTS may come even ahead of the continuation.
    auto before = m_arrivals;
    std::string tag = "mp" + std::to_string(++m_tag);
    m_conn.send_line(tag + " IDLE", deadline, "IDLE response");
    std::size_t received = 0;
    for (;;) {
        Response r = read_response(deadline, "IDLE", received);
        if (r.line.starts_with("+")) break;
        if (r.line.starts_with("* ")) {
            track(r.line);  // untagged data is legal before the continuation
            continue;
        }
        if (r.line.starts_with(tag + " ") && r.line.substr(tag.size() + 1).starts_with("OK")) {
            return;  // done without ever idling: the caller simply looks again
        }
        throw m_conn.failure("IMAP IDLE refused by " + m_config.endpoint.display() + ": " +
                             sanitize_text(r.line));
    }
    std::size_t lines = 0;
    while (m_arrivals == before && m_conn.wait_readable(until)) {
        received = 0;  // a long IDLE may legitimately see much data; each response is capped
        track(read_response(deadline, "IDLE notification", received).line);
        if (++lines > 100000) {
            throw m_conn.failure("IMAP server " + m_config.endpoint.display() + " flooded IDLE");
        }
    }
    m_conn.send_line("DONE", deadline, "IDLE end");
    for (received = 0;;) {
        Response r = read_response(deadline, "IDLE end", received);
        if (r.line.starts_with("* ")) {
            track(r.line);
        } else if (r.line.starts_with(tag + " ")) {
            check_tagged(r.line, tag, "IDLE");
            return;
        }
    }
}

void ImapSession::remove(const std::vector<FoundProbe>& probes, const Deadline& deadline) {
    std::vector<std::string> folders;
    for (const auto& p : probes) {
        if (std::find(folders.begin(), folders.end(), p.folder) == folders.end()) {
            folders.push_back(p.folder);
        }
    }
    for (const auto& folder : folders) {
        std::vector<std::uint32_t> uids;
        for (const auto& p : probes) {
            if (p.folder == folder) uids.push_back(p.ref);
        }
        select(folder, deadline);
        std::string set = imap::uid_set(uids);
        command("UID STORE " + set + " +FLAGS.SILENT (\\Deleted)", deadline, "UID STORE");
        if (m_caps.count("UIDPLUS")) {
            command("UID EXPUNGE " + set, deadline, "UID EXPUNGE");
        } else {
            // A plain EXPUNGE would also remove messages others flagged: never. Count
            // what piles up instead, so that it can be reported.
            count_flagged(folder, deadline);
        }
    }
    select(m_config.folder, deadline);
}

void ImapSession::count_flagged(const std::string& folder, const Deadline& deadline) {
    if (!m_identity) return;
    // Counted like any probe: only what verifies against our key is ours (a forged header
    // on someone else's flagged mail must not raise the pile-up).
    auto uids = search(
        "DELETED HEADER X-Mailprobe " + imap::quote("n=" + m_identity->name_digest()), deadline);
    auto ours = verified(uids, *m_identity, folder, deadline).size();
    m_flagged[folder] = static_cast<std::uint32_t>(std::min<std::size_t>(ours, UINT32_MAX));
}

std::optional<std::uint32_t> ImapSession::flagged_probes() const {
    if (m_flagged.empty()) return std::nullopt;
    std::uint32_t total = 0;
    for (const auto& [folder, n] : m_flagged) total += n;
    return total;
}

void ImapSession::close(const Deadline& deadline) noexcept {
    if (!m_open) return;
    m_open = false;
    try {
        command("LOGOUT", deadline, "LOGOUT");
    } catch (...) {
        // Logging out is a courtesy; the result is already known.
    }
}

}  // namespace mailprobe::mailbox
