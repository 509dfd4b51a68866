#pragma once
// What went over the wire, as libcurl's debug callback reports it: the redacted
// transcript for -vvv (on the failure it explains, see attach_to()), the stage we are
// waiting in (for timeout messages) and the server's last words (for failure messages).
#include <chrono>
#include <deque>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "curl/easy.hpp"
#include "curl/protocol.hpp"
#include "result/failure.hpp"

namespace mailprobe::curl {

// Hides credentials in client lines: AUTH/AUTHENTICATE arguments and every line of the
// exchange that follows, IMAP LOGIN, POP3 PASS/APOP.
class Redactor {
public:
    std::string client_line(std::string_view line);
    void server_line(std::string_view line);

private:
    bool m_in_auth = false;
};

class Transcript {
public:
    using Clock = std::chrono::steady_clock;

    explicit Transcript(Protocol protocol) : m_protocol(protocol) {}
    Transcript(const Transcript&) = delete;
    Transcript& operator=(const Transcript&) = delete;
    // Routes the handle's debug output here (CURLOPT_VERBOSE + CURLOPT_DEBUGFUNCTION).
    void attach(Easy& easy);

    void on_client(std::string_view line);
    void on_server(std::string_view line);
    // Also hands every line, unredacted and as it passes, to `observer` (from_server, line):
    // lets a protocol check a reply before libcurl acts on it (smtp/auth_guard.hpp).
    using Observer = std::function<void(bool, std::string_view)>;
    void observe(Observer observer) { m_observer = std::move(observer); }
    // libcurl reports the TCP connection up ("Connected to ..."): a wait after this is in
    // the TLS handshake or the protocol, not in the connect.
    void on_connected() { m_connected = true; }
    bool connected() const { return m_connected; }

    Protocol protocol() const { return m_protocol; }
    // "greeting", "EHLO response", "login response", "end-of-data response", ...
    std::string waiting_for() const;
    bool got_server_line() const { return m_server_lines > 0; }
    const std::string& last_command() const { return m_last_command; }  // redacted
    const std::string& last_reply() const { return m_last_reply; }
    // IMAP: the text of an untagged BYE the server sent unasked (not in reply to our
    // LOGOUT), e.g. "[UNAVAILABLE] maintenance"; empty when none came.
    const std::string& bye() const { return m_bye; }
    // SMTP: the reply to the end of DATA, and when it came.
    const std::string& data_reply() const { return m_data_reply; }
    Clock::time_point data_reply_time() const { return m_data_reply_time; }
    // The redacted lines, "C: ..." / "S: ...", at most a few hundred.
    const std::deque<std::string>& lines() const { return m_lines; }
    // Puts the lines so far, under a "-- SMTP --" heading, on a failure this conversation
    // explains (unless it already carries one), so that -vvv can show them after the
    // failure has unwound past this transcript. Nothing when no line went over the wire.
    void attach_to(CheckFailure& failure) const;
    // attach_to() on a copy: `throw transcript.explained(critical("..."))`.
    template <typename Failure>
    Failure explained(Failure failure) const {
        attach_to(failure);
        return failure;
    }

private:
    void remember(const std::string& line);
    // Whether a server line is a well-formed reply of the protocol, and whether it ends
    // the reply to the last command (junk and wrongly tagged lines end nothing).
    bool well_formed(std::string_view line) const;
    bool final_reply(std::string_view line) const;

    Protocol m_protocol;
    Redactor m_redactor;
    std::deque<std::string> m_lines;
    std::string m_last_command;
    std::string m_last_verb;
    std::string m_last_reply;
    bool m_awaiting_reply = false;
    bool m_in_data = false;
    std::size_t m_server_lines = 0;
    std::size_t m_replies = 0;  // well-formed server lines
    bool m_sent = false;        // any client line yet
    bool m_connected = false;
    std::string m_bye;
    Observer m_observer;
    std::string m_last_tag;  // IMAP: the tag whose completion ends the current reply
    std::string m_data_reply;
    Clock::time_point m_data_reply_time{};
};

}  // namespace mailprobe::curl
