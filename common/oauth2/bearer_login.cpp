#include "oauth2/bearer_login.hpp"

#include "core/sanitize.hpp"
#include "oauth2/sasl.hpp"

namespace mailprobe::oauth2 {

namespace {

constexpr const char* k_stage = "login response";
constexpr const char* k_imap_tag = "mpauth";

enum class Reply { success, failure, challenge, other };

struct Classified {
    Reply kind;
    std::string text;  // the reply without IMAP tag; the challenge's payload
};

// Reads one complete reply of the protocol and classifies it.
Classified next_reply(mailbox::LineConnection& conn, curl::Protocol proto,
                      const Deadline& deadline) {
    for (;;) {
        std::string line = conn.read_line(deadline, k_stage);
        if (proto == curl::Protocol::imap) {
            if (line.starts_with("* ")) continue;  // e.g. an untagged CAPABILITY
            if (line == "+" || line.starts_with("+ ")) {
                return {Reply::challenge, line.size() > 2 ? line.substr(2) : ""};
            }
            std::string tag = std::string(k_imap_tag) + " ";
            if (!line.starts_with(tag)) return {Reply::other, line};
            std::string rest = line.substr(tag.size());
            return {rest.starts_with("OK") ? Reply::success : Reply::failure, rest};
        }
        if (proto == curl::Protocol::pop3) {
            if (line == "+" || line.starts_with("+ ")) {
                return {Reply::challenge, line.size() > 2 ? line.substr(2) : ""};
            }
            if (line.starts_with("+OK")) return {Reply::success, line};
            if (line.starts_with("-ERR")) return {Reply::failure, line};
            return {Reply::other, line};
        }
        // SMTP: multi-line replies ("535-...") end with the line whose 4th character is ' '.
        if (line.size() >= 4 && line[3] == '-') continue;
        if (line.starts_with("334"))
            return {Reply::challenge, line.size() > 4 ? line.substr(4) : ""};
        if (line.starts_with("235")) return {Reply::success, line};
        if (line.starts_with("4") || line.starts_with("5")) return {Reply::failure, line};
        return {Reply::other, line};
    }
}

std::string auth_command(curl::Protocol proto, Mechanism mech, const std::string& ir,
                         bool with_ir) {
    std::string verb =
        proto == curl::Protocol::imap ? std::string(k_imap_tag) + " AUTHENTICATE" : "AUTH";
    return verb + " " + mechanism_name(mech) + (with_ir ? " " + ir : "");
}

}  // namespace

void bearer_login(mailbox::LineConnection& conn, const Deadline& deadline) {
    const auto& ep = conn.endpoint();
    const auto& cred = conn.credentials();
    const curl::Protocol proto = ep.protocol;
    const std::string who =
        curl::protocol_name(proto) + " login as " + cred.user + " on " + ep.display();
    auto mech = parse_mechanism(cred.mechanism).value_or(Mechanism::xoauth2);
    const auto& lines = conn.transcript().lines();
    std::vector<std::string> seen(lines.begin(), lines.end());
    auto offered = advertised_mechanisms(seen, proto);
    if (!offered.contains(mechanism_name(mech))) {
        std::string list;
        for (const auto& m : offered) list += (list.empty() ? "" : " ") + m;
        throw critical(who + " impossible: the server does not offer " + mechanism_name(mech) +
                       " (it offers: " + (list.empty() ? "none" : list) + ")");
    }
    std::string ir = initial_response(mech, cred.user, cred.secret, ep.host, ep.port);
    // IMAP sends the initial response in the command only with SASL-IR (RFC 4959).
    bool with_ir = proto != curl::Protocol::imap;
    for (const auto& l : seen) with_ir = with_ir || l.find("SASL-IR") != std::string::npos;
    conn.send_line(auth_command(proto, mech, ir, with_ir), deadline, k_stage);
    std::string payload;
    bool sent_ir = with_ir;
    for (int round = 0; round < 4; ++round) {
        Classified r = next_reply(conn, proto, deadline);
        if (r.kind == Reply::success) return;
        if (r.kind == Reply::challenge && !sent_ir) {
            conn.send_line(ir, deadline, k_stage);
            sent_ir = true;
            continue;
        }
        if (r.kind == Reply::challenge) {
            // The error payload (RFC 7628 3.2.2); the exchange ends with our abort response.
            payload = describe_error_payload(r.text);
            conn.send_line(abort_response(mech), deadline, k_stage);
            continue;
        }
        std::string reply = sanitize_text(r.text, 200);
        std::string hint = explain_auth_refusal(r.text, proto, true);
        std::string text = who;
        text += " with " + mechanism_name(mech) + " refused: " + reply;
        if (!payload.empty()) text += " (server says: " + payload + ")";
        if (!hint.empty()) text += "; " + hint;
        throw TokenRefused(Status::critical, text);
    }
    throw critical(who + " with " + mechanism_name(mech) +
                   ": the server kept challenging; giving up");
}

}  // namespace mailprobe::oauth2
