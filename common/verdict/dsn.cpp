#include "verdict/dsn.hpp"

#include <algorithm>
#include <array>

#include "relay/headers.hpp"
#include "relay/received.hpp"
#include "verdict/mime.hpp"

namespace mailprobe::verdict {
namespace {

constexpr std::size_t max_status_blocks = 50;
constexpr std::size_t max_text_lines = 200;

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](char c) {
        return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    });
    return out;
}

bool contains(std::string_view hay, std::string_view needle_lower) {
    return lower(hay).find(needle_lower) != std::string::npos;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
        s.remove_suffix(1);
    return s;
}

// "dns; mx.example.org" -> "mx.example.org", "smtp;550 ..." -> "550 ..." (RFC 3464 type).
std::string strip_type(std::string_view value) {
    const std::size_t semi = value.find(';');
    if (semi != std::string_view::npos && semi < 16) value = value.substr(semi + 1);
    return std::string(trim(value));
}

std::string first(std::string_view block, std::string_view name) {
    const auto v = relay::header_values(block, name, 1);
    return v.empty() ? std::string() : v.front();
}

// Length of an RFC 3463 status code "c.sss.ddd" at s[pos] (class 2, 4 or 5), or 0.
std::size_t status_at(std::string_view s, std::size_t pos) {
    if (pos > 0 && (is_digit(s[pos - 1]) || s[pos - 1] == '.')) return 0;
    if (pos >= s.size() || (s[pos] != '2' && s[pos] != '4' && s[pos] != '5')) return 0;
    std::size_t i = pos + 1;
    for (int group = 0; group < 2; ++group) {
        if (i >= s.size() || s[i] != '.') return 0;
        const std::size_t start = ++i;
        while (i < s.size() && is_digit(s[i]) && i - start < 3) ++i;
        if (i == start) return 0;
    }
    if (i < s.size() && (is_digit(s[i]) || s[i] == '.')) return 0;
    return i - pos;
}

std::string find_status(std::string_view text) {
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (const std::size_t n = status_at(text, i)) return std::string(text.substr(i, n));
    }
    return {};
}

// A line holding an SMTP reply ("550 5.1.1 ...", "550-5.7.26 ...", "#550 5.1.10 ...").
bool smtp_reply_line(std::string_view line) {
    for (std::size_t i = 0; i + 4 <= line.size(); ++i) {
        const bool word_start = i == 0 || line[i - 1] == ' ' || line[i - 1] == '#' ||
                                line[i - 1] == ':' || line[i - 1] == '\t';
        if (word_start && (line[i] == '4' || line[i] == '5') && is_digit(line[i + 1]) &&
            is_digit(line[i + 2]) && (line[i + 3] == ' ' || line[i + 3] == '-'))
            return true;
    }
    return false;
}

std::vector<std::string_view> lines(std::string_view text) {
    std::vector<std::string_view> out;
    for (std::size_t pos = 0; pos < text.size() && out.size() < max_text_lines;) {
        const std::size_t nl = text.find('\n', pos);
        const std::size_t end = nl == std::string_view::npos ? text.size() : nl;
        out.push_back(trim(text.substr(pos, end - pos)));
        if (nl == std::string_view::npos) break;
        pos = nl + 1;
    }
    return out;
}

DsnAction action_of(std::string_view value) {
    const std::string v = lower(trim(value.substr(0, value.find_first_of(" ;("))));
    if (v == "failed") return DsnAction::failed;
    if (v == "delayed") return DsnAction::delayed;
    if (v == "delivered") return DsnAction::delivered;
    if (v == "relayed") return DsnAction::relayed;
    if (v == "expanded") return DsnAction::expanded;
    return DsnAction::unknown;
}

// RFC 3464 2.1: per-message fields, then one block per recipient. The recipient reported is
// the first that failed, else the first delayed, else the first.
void read_status_part(std::string_view body, Dsn& d) {
    std::string_view best;
    int best_rank = 3;
    std::size_t blocks = 0;
    for (std::string_view rest = body; !rest.empty() && blocks < max_status_blocks; ++blocks) {
        const Entity e = split_entity(rest);
        rest = e.body;
        if (d.reporting_mta.empty()) d.reporting_mta = strip_type(first(e.header, "Reporting-MTA"));
        const std::string action = first(e.header, "Action");
        if (action.empty()) continue;
        const DsnAction a = action_of(action);
        const int rank = a == DsnAction::failed ? 0 : a == DsnAction::delayed ? 1 : 2;
        if (rank < best_rank) {
            best_rank = rank;
            best = e.header;
        }
    }
    if (best.empty()) return;
    d.action = action_of(first(best, "Action"));
    const std::string status = first(best, "Status");
    d.status = find_status(status.substr(0, 16));
    d.diagnostic = strip_type(first(best, "Diagnostic-Code"));
    d.final_recipient = strip_type(first(best, "Final-Recipient"));
}

bool is_returned_type(std::string_view type) {
    return type == "message/rfc822" || type == "message/global" || type == "text/rfc822-headers" ||
           type == "message/global-headers";
}

// Signs of a plain-text bounce in the bounce's own header.
bool looks_like_bounce(std::string_view header) {
    if (!relay::header_values(header, "X-Failed-Recipients", 1).empty()) return true;
    const std::string from = lower(first(header, "From"));
    if (from.find("mailer-daemon@") != std::string::npos ||
        from.find("postmaster@") != std::string::npos)
        return true;
    const std::string subject = lower(first(header, "Subject"));
    for (const std::string_view s :
         {"undeliver", "delivery status notification", "mail delivery failed", "returned mail",
          "delivery failure", "failure notice", "delayed mail", "warning: message"}) {
        if (subject.find(s) != std::string::npos) return true;
    }
    return false;
}

// The host of a "Mailer-Daemon@host" sender, else the newest Received "by" host.
std::string bounce_reporter(std::string_view header) {
    const std::string from = first(header, "From");
    const std::string lf = lower(from);
    for (const std::string_view who : {"mailer-daemon@", "postmaster@"}) {
        const std::size_t at = lf.find(who);
        if (at == std::string::npos) continue;
        const std::size_t start = at + who.size();
        const std::size_t end = from.find_first_of(" >\t;,)", start);
        return from.substr(start, end == std::string::npos ? std::string::npos : end - start);
    }
    const auto received = relay::header_values(header, "Received", 1);
    if (received.empty()) return {};
    const auto r = relay::parse_received(received.front());
    return r ? r->by : std::string();
}

void read_plain_bounce(std::string_view header, std::string_view text, Dsn& d) {
    std::string_view human = text;
    for (const auto line : lines(text)) {
        const std::string l = lower(line);
        if (l.find("copy of the message") != std::string::npos ||
            l.find("original message") != std::string::npos) {
            const std::size_t after =
                static_cast<std::size_t>(line.data() - text.data()) + line.size();
            human = text.substr(0, static_cast<std::size_t>(line.data() - text.data()));
            std::string_view copy = text.substr(after);
            while (!copy.empty() && (copy.front() == '\r' || copy.front() == '\n'))
                copy.remove_prefix(1);
            d.returned_header = std::string(split_entity(copy).header);
            d.returned_message = std::string(copy);
            d.returned_body = !split_entity(copy).body.empty();
            break;
        }
    }
    for (const auto line : lines(human)) {
        if (smtp_reply_line(line)) {
            d.diagnostic = std::string(line.substr(0, 400));
            break;
        }
    }
    d.status = find_status(d.diagnostic.empty() ? human : std::string_view(d.diagnostic));
    if (d.status.empty()) d.status = find_status(human);
    const std::string subject = lower(first(header, "Subject"));
    const bool delayed =
        subject.find("delay") != std::string::npos ||
        subject.find("warning") != std::string::npos || contains(human, "not yet been delivered") ||
        contains(human, "will continue trying") || (!d.status.empty() && d.status[0] == '4');
    d.action = delayed ? DsnAction::delayed : DsnAction::failed;
    d.reporting_mta = bounce_reporter(header);
    d.final_recipient = first(header, "X-Failed-Recipients");
}

std::string printable(std::string_view s, std::size_t max_len) {
    std::string out(s.substr(0, max_len));
    for (char& c : out) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f || c == '|') c = ' ';
    }
    if (s.size() > max_len) out += "...";
    return out;
}

// The 32-hex probe id in a VERP address "local+<id>@domain" (the last '+' of the local
// part: the return path itself may be plus-addressed), or "".
std::string verp_id(std::string_view address) {
    const std::size_t plus = address.rfind('+', address.rfind('@'));
    if (plus == std::string_view::npos || plus + 33 >= address.size()) return {};
    const std::string_view id = address.substr(plus + 1, 32);
    if (address[plus + 33] != '@') return {};
    const bool hex = std::all_of(id.begin(), id.end(),
                                 [](char c) { return is_digit(c) || (c >= 'a' && c <= 'f'); });
    return hex ? std::string(id) : std::string();
}

}  // namespace

std::optional<Dsn> parse_dsn(std::string_view message) {
    const Entity top = split_entity(message);
    if (!relay::header_values(top.header, std::string(probe::k_header), 1).empty())
        return std::nullopt;
    Dsn d;
    // The delivering side may keep or strip the "+<id>" detail in each of these: the
    // first that carries one wins, else the first present.
    for (const std::string_view name : {"Delivered-To", "X-Original-To", "To"}) {
        std::string value = first(top.header, name);
        if (d.verp_to.empty() || (verp_id(d.verp_to).empty() && !verp_id(value).empty()))
            d.verp_to = std::move(value);
    }
    std::string_view first_text;
    bool have_text = false;
    for (const Entity& part : leaf_parts(message)) {
        const ContentType ct = content_type(part.header);
        if (ct.type == "message/delivery-status" || ct.type == "message/global-delivery-status") {
            if (!d.standard) read_status_part(part.body, d);
            d.standard = true;
        } else if (is_returned_type(ct.type) && d.returned_header.empty()) {
            d.returned_header = std::string(split_entity(part.body).header);
            d.returned_message = std::string(part.body);
            d.returned_body = ct.type == "message/rfc822" || ct.type == "message/global";
        } else if (ct.type == "text/plain" && !have_text) {
            first_text = part.body;
            have_text = true;
        }
    }
    if (d.standard) return d;
    if (!looks_like_bounce(top.header)) return std::nullopt;
    d.returned_header.clear();
    d.returned_message.clear();
    d.returned_body = false;
    read_plain_bounce(top.header, have_text ? first_text : top.body, d);
    return d;
}

DsnReference refers_to(const Dsn& dsn, const probe::Identity& identity,
                       const std::vector<std::string>& awaited_ids) {
    const auto awaited = [&](const std::string& id) {
        return std::find(awaited_ids.begin(), awaited_ids.end(), id) != awaited_ids.end();
    };
    bool forged = false;
    std::string headers_only;
    const std::string digest = identity.name_digest();
    for (const auto& value :
         relay::header_values(dsn.returned_header, std::string(probe::k_header), 5)) {
        const auto p = probe::parse_header_value(value);
        if (!p || p->name_digest != digest || !awaited(p->id)) continue;  // not this run's
        if (!dsn.returned_body) {
            headers_only = p->id;  // the tag covers the body: cannot be proven
            continue;
        }
        const auto verified = probe::verify_message(identity, dsn.returned_message);
        if (verified && verified->id == p->id) return {DsnMatch::ours, p->id};
        forged = true;
    }
    if (forged) return {DsnMatch::forged, {}};
    if (!headers_only.empty()) return {DsnMatch::ours_unverified, headers_only};
    const std::string id = verp_id(dsn.verp_to);
    if (!id.empty() && awaited(id)) return {DsnMatch::ours_unverified, id};
    return {};
}

const char* action_name(DsnAction action) {
    switch (action) {
        case DsnAction::failed:
            return "failed";
        case DsnAction::delayed:
            return "delayed";
        case DsnAction::delivered:
            return "delivered";
        case DsnAction::relayed:
            return "relayed";
        case DsnAction::expanded:
            return "expanded";
        case DsnAction::unknown:
            break;
    }
    return "unknown";
}

std::string describe(const Dsn& dsn) {
    const std::string mta =
        dsn.reporting_mta.empty() ? "an unnamed MTA" : printable(dsn.reporting_mta, 120);
    std::string what = printable(dsn.status, 16);
    if (!dsn.diagnostic.empty()) what += (what.empty() ? "" : " ") + printable(dsn.diagnostic, 300);
    if (what.empty()) what = "no status given";
    switch (dsn.action) {
        case DsnAction::failed:
            return "probe bounced by " + mta + ": " + what;
        case DsnAction::delayed:
            return "delayed at " + mta + ": " + what;
        default:
            return std::string("DSN (") + action_name(dsn.action) + ") from " + mta + ": " + what;
    }
}

}  // namespace mailprobe::verdict
