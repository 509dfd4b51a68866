#include "curl/transcript.hpp"

#include <algorithm>
#include <cctype>
#include <vector>

#include "core/sanitize.hpp"

namespace mailprobe::curl {

namespace {

constexpr std::size_t k_max_lines = 400;
constexpr std::size_t k_max_line = 400;

std::vector<std::string_view> words(std::string_view line, std::size_t max) {
    std::vector<std::string_view> out;
    std::size_t i = 0;
    while (i < line.size() && out.size() < max) {
        while (i < line.size() && line[i] == ' ') ++i;
        std::size_t j = i;
        while (j < line.size() && line[j] != ' ') ++j;
        if (j > i) out.push_back(line.substr(i, j - i));
        i = j;
    }
    return out;
}

std::string upper(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    return out;
}

// IMAP commands carry a tag first; the verb is then the second word.
std::string verb_of(std::string_view line, std::string* tag) {
    auto w = words(line, 3);
    if (w.empty()) return "";
    std::string first = upper(w[0]);
    static const char* verbs[] = {"AUTH", "AUTHENTICATE", "LOGIN",    "PASS",       "APOP", "USER",
                                  "EHLO", "HELO",         "STARTTLS", "STLS",       "MAIL", "RCPT",
                                  "DATA", "QUIT",         "CAPA",     "CAPABILITY", "NOOP", "RSET"};
    bool known = std::find(std::begin(verbs), std::end(verbs), first) != std::end(verbs);
    if (!known && w.size() > 1) {
        if (tag) *tag = std::string(w[0]);
        return upper(w[1]);
    }
    return first;
}

bool is_continuation(std::string_view line) {
    return line.starts_with("334") || line.starts_with("+ ") || line == "+";
}

}  // namespace

std::string Redactor::client_line(std::string_view line) {
    std::string tag;
    std::string verb = verb_of(line, &tag);
    std::string prefix = tag.empty() ? "" : tag + " ";
    if (verb == "AUTH" || verb == "AUTHENTICATE") {
        m_in_auth = true;
        auto w = words(line, 4);
        std::size_t mech_at = tag.empty() ? 1 : 2;
        std::string mech = w.size() > mech_at ? std::string(w[mech_at]) : "";
        return prefix + verb + (mech.empty() ? "" : " " + mech) + " [redacted]";
    }
    if (verb == "LOGIN" || verb == "PASS" || verb == "APOP") return prefix + verb + " [redacted]";
    if (m_in_auth) return "[redacted]";
    return std::string(line);
}

void Redactor::server_line(std::string_view line) {
    if (m_in_auth && !is_continuation(line)) m_in_auth = false;
}

void Transcript::attach_to(CheckFailure& failure) const {
    if (m_lines.empty()) return;
    std::vector<std::string> lines;
    lines.reserve(m_lines.size() + 1);
    lines.push_back("-- " + protocol_name(m_protocol) + " --");
    lines.insert(lines.end(), m_lines.begin(), m_lines.end());
    failure.attach_transcript(std::move(lines));
}

void Transcript::remember(const std::string& line) {
    if (m_lines.size() >= k_max_lines) m_lines.pop_front();
    m_lines.push_back(sanitize_text(line, k_max_line));
}

bool Transcript::well_formed(std::string_view line) const {
    auto digit = [&](std::size_t i) { return line[i] >= '0' && line[i] <= '9'; };
    switch (m_protocol) {
        case Protocol::smtp:
            return line.size() >= 3 && digit(0) && digit(1) && digit(2) &&
                   (line.size() == 3 || line[3] == ' ' || line[3] == '-');
        case Protocol::imap:
            return line.starts_with("* ") || line.starts_with("+") ||
                   (!m_last_tag.empty() && line.starts_with(m_last_tag + " "));
        case Protocol::pop3:
            return line.starts_with("+OK") || line.starts_with("-ERR") || line.starts_with("+ ") ||
                   line == "+";
    }
    return true;
}

bool Transcript::final_reply(std::string_view line) const {
    switch (m_protocol) {
        case Protocol::smtp:
            return well_formed(line) && (line.size() == 3 || line[3] == ' ');
        case Protocol::imap:
            return m_last_tag.empty() ? line.starts_with("* ") : line.starts_with(m_last_tag + " ");
        case Protocol::pop3:
            return line.starts_with("+OK") || line.starts_with("-ERR");
    }
    return line.size() < 4 || line[3] != '-';
}

void Transcript::on_client(std::string_view line) {
    std::string shown = m_redactor.client_line(line);
    m_sent = true;
    // Lines inside an AUTH exchange are credentials, not commands: keep the AUTH verb.
    if (shown != "[redacted]") {
        std::string tag;
        m_last_verb = verb_of(line, &tag);
        if (!tag.empty()) m_last_tag = tag;
    }
    // libcurl ends a failed transfer with QUIT/LOGOUT: "221 Bye" must not hide the refusal
    // that caused it (last_command/last_reply feed the failure messages).
    bool closing = m_last_verb == "QUIT" || m_last_verb == "LOGOUT";
    if (!closing) m_last_command = sanitize_text(shown, 200);
    m_awaiting_reply = true;
    remember("C: " + shown);
    if (m_observer) m_observer(false, line);
}

void Transcript::on_server(std::string_view line) {
    m_redactor.server_line(line);
    ++m_server_lines;
    if (well_formed(line)) ++m_replies;
    remember("S: " + std::string(line));
    bool final_line = final_reply(line);  // not "250-" of a multi-line reply, nor junk
    if (m_last_verb != "QUIT" && m_last_verb != "LOGOUT") m_last_reply = sanitize_text(line, 300);
    if (m_protocol == Protocol::imap && m_last_verb != "LOGOUT" && m_bye.empty() &&
        (line.starts_with("* BYE ") || line == "* BYE")) {
        m_bye = sanitize_text(line.size() > 6 ? line.substr(6) : "(no text)", 300);
    }
    if (m_in_data && final_line && !line.starts_with("354")) {
        m_data_reply = m_last_reply;
        m_data_reply_time = Clock::now();
        m_in_data = false;
    }
    if (m_last_verb == "DATA" && line.starts_with("354")) m_in_data = true;
    if (final_line) m_awaiting_reply = m_in_data;
    if (m_observer) m_observer(true, line);
}

std::string Transcript::waiting_for() const {
    if (m_replies == 0 && !m_sent) return "greeting";
    if (m_in_data) return "end-of-data response";
    if (!m_awaiting_reply) {
        bool tls_next = (m_last_verb == "STARTTLS" || m_last_verb == "STLS");
        return tls_next ? "TLS handshake" : "next reply";
    }
    static const char* login_verbs[] = {"AUTH", "AUTHENTICATE", "LOGIN", "PASS", "APOP", "USER"};
    if (std::find(std::begin(login_verbs), std::end(login_verbs), m_last_verb) !=
        std::end(login_verbs)) {
        return "login response";
    }
    return m_last_verb.empty() ? "reply" : m_last_verb + " response";
}

namespace {

int debug_callback(CURL*, curl_infotype type, char* data, size_t size, void* user) {
    auto* t = static_cast<Transcript*>(user);
    std::string_view text(data, size);
    if (type == CURLINFO_TEXT && text.starts_with("Connected to ")) t->on_connected();
    if (type != CURLINFO_HEADER_IN && type != CURLINFO_HEADER_OUT) return 0;
    try {
        while (!text.empty()) {
            auto eol = text.find('\n');
            std::string_view line = text.substr(0, eol);
            if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
            if (type == CURLINFO_HEADER_IN) {
                t->on_server(line);
            } else {
                t->on_client(line);
            }
            if (eol == std::string_view::npos) break;
            text.remove_prefix(eol + 1);
        }
    } catch (...) {
        // Never let a transcript problem abort a transfer.
    }
    return 0;
}

}  // namespace

void Transcript::attach(Easy& easy) {
    easy.set(CURLOPT_DEBUGFUNCTION, debug_callback);
    easy.set(CURLOPT_DEBUGDATA, static_cast<void*>(this));
    easy.set(CURLOPT_VERBOSE, 1L);
}

}  // namespace mailprobe::curl
