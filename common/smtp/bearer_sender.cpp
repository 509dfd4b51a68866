#include "smtp/bearer_sender.hpp"

#include "core/sanitize.hpp"
#include "mailbox/line_connection.hpp"
#include "probe/probe.hpp"

namespace mailprobe::smtp {

namespace {

// One complete reply (the last line of a multi-line one).
std::string read_reply(mailbox::LineConnection& conn, const Deadline& deadline,
                       const std::string& stage) {
    for (;;) {
        std::string line = conn.read_line(deadline, stage);
        if (line.size() >= 4 && line[3] == '-') continue;
        return line;
    }
}

// The server's reply to `what`: 2xx/3xx as expected passes, 4xx is deferred (WARNING),
// anything else is a refusal (CRITICAL), in the same words as the libcurl path.
void expect(const std::string& reply, char first, const std::string& what) {
    if (!reply.empty() && reply[0] == first) return;
    std::string text = sanitize_text(reply, 300);
    if (!reply.empty() && reply[0] == '4') {
        throw SendError(SendError::Kind::temporary,
                        CheckFailure(Status::warning, what + " deferred: " + text));
    }
    throw SendError(SendError::Kind::permanent,
                    CheckFailure(Status::critical, what + " rejected: " + text));
}

std::string exchange(mailbox::LineConnection& conn, const std::string& command,
                     const Deadline& deadline, const std::string& stage) {
    conn.send_line(command, deadline, stage);
    return read_reply(conn, deadline, stage);
}

}  // namespace

std::string smtp_data_block(const std::string& message) {
    std::string out;
    out.reserve(message.size() + 64);
    bool line_start = true;
    for (std::size_t i = 0; i < message.size(); ++i) {
        char c = message[i];
        if (line_start && c == '.') out += '.';
        if (c == '\n' && (i == 0 || message[i - 1] != '\r')) out += '\r';
        out += c;
        line_start = c == '\n';
    }
    if (!line_start) out += "\r\n";
    return out + ".\r\n";
}

SendOutcome send_with_bearer(const ServerConfig& server, const Envelope& envelope,
                             const std::string& message, const Deadline& deadline,
                             const std::function<bool()>& before_data) {
    auto start = std::chrono::steady_clock::now();
    mailbox::LineConnection conn(server.endpoint, server.tls, *server.auth, server.helo);
    SendOutcome out;
    try {
        mailbox::LoginTimes login = conn.open(deadline);  // includes AUTH
        out.connect_s = login.connect_s;
        out.tls_s = login.tls_s;
        out.certificate = login.certificate;
        expect(exchange(conn, "MAIL FROM:<" + envelope.from + ">", deadline, "MAIL FROM response"),
               '2', "MAIL FROM <" + envelope.from + ">");
        for (const auto& to : envelope.to) {
            expect(exchange(conn, "RCPT TO:<" + to + ">", deadline, "RCPT TO response"), '2',
                   "RCPT TO <" + to + ">");
        }
        if (before_data && !before_data()) {
            throw critical("probe not sent: the mailbox side failed first");
        }
        expect(exchange(conn, "DATA", deadline, "DATA response"), '3', "DATA");
        conn.send_raw(smtp_data_block(message), deadline, "end-of-data response");
        std::string reply = read_reply(conn, deadline, "end-of-data response");
        out.accepted_at = std::chrono::steady_clock::now();
        expect(reply, '2', "message (end of DATA)");
        out.reply = sanitize_text(reply, 300);
    } catch (CheckFailure& e) {
        conn.transcript().attach_to(e);  // a refusal read here, or "probe not sent"
        throw;
    }
    out.accepted_unix_ms = probe::unix_now_ms();
    out.queue_id = parse_queue_id(out.reply);
    try {
        conn.send_line("QUIT", deadline, "QUIT response");
        read_reply(conn, deadline, "QUIT response");
    } catch (const CheckFailure&) {
        // The message is accepted; a server that hangs up instead of saying goodbye is fine.
    }
    out.transaction_s = std::chrono::duration<double>(out.accepted_at - start).count();
    out.total_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const auto& lines = conn.transcript().lines();
    out.transcript.assign(lines.begin(), lines.end());
    return out;
}

}  // namespace mailprobe::smtp
