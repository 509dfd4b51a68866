#include "probe/probe.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <charconv>
#include <chrono>
#include <ctime>

#include "probe/canonical.hpp"
#include "probe/subject.hpp"
#include "relay/headers.hpp"
#include "result/failure.hpp"

namespace mailprobe::probe {

namespace {

std::string to_hex(const unsigned char* data, std::size_t size) {
    static const char* digits = "0123456789abcdef";
    std::string out;
    out.reserve(size * 2);
    for (std::size_t i = 0; i < size; ++i) {
        out += digits[data[i] >> 4];
        out += digits[data[i] & 15];
    }
    return out;
}

bool is_hex(std::string_view s) {
    return !s.empty() && s.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

template <typename T>
bool parse_number(std::string_view v, T& out) {
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
    return ec == std::errc() && end == v.data() + v.size();
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
        s.remove_suffix(1);
    return s;
}

}  // namespace

std::string random_hex(std::size_t bytes) {
    std::vector<unsigned char> buf(bytes);
    if (RAND_bytes(buf.data(), static_cast<int>(bytes)) != 1) {
        throw unknown("OpenSSL could not produce random bytes");
    }
    return to_hex(buf.data(), buf.size());
}

std::int64_t unix_now_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string Identity::name_digest() const {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(name.data(), name.size(), md, &len, EVP_sha256(), nullptr);
    return to_hex(md, 8);
}

std::optional<std::string> compute_tag(const Identity& identity, const Probe& probe,
                                       std::string_view message) {
    // Length-prefixed name and fixed-format fields first, then "name:value\r\n" fields
    // (no CR or LF inside) and the body prefix of stated length: no two messages share
    // one input.
    std::string data = "mailprobe-v2\n" + std::to_string(identity.name.size()) + ":" +
                       identity.name + "\n" + probe.id + "\n" + std::to_string(probe.sent_ms) +
                       "\n" + std::to_string(probe.body_length) + "\n";
    for (auto field : k_signed_fields) {
        auto canonical = canonical_field(message, field);
        if (!canonical) return std::nullopt;
        data += *canonical;
    }
    auto body = canonical_body(message);
    if (!body || body->size() < probe.body_length) return std::nullopt;
    data.append(*body, 0, probe.body_length);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!HMAC(EVP_sha256(), identity.key.data(), static_cast<int>(identity.key.size()),
              reinterpret_cast<const unsigned char*>(data.data()), data.size(), md, &len)) {
        throw unknown("OpenSSL HMAC failed");
    }
    return to_hex(md, len);
}

std::string Probe::header_value() const {
    return "v=2; n=" + name_digest + "; id=" + id + "; t=" + std::to_string(sent_ms) +
           "; l=" + std::to_string(body_length) + "; tag=" + tag;
}

std::optional<Probe> parse_header_value(std::string_view value) {
    if (value.size() > 512) return std::nullopt;
    Probe p;
    bool version = false, has_time = false, has_length = false;
    while (!value.empty()) {
        auto semi = value.find(';');
        std::string_view field = trim(value.substr(0, semi));
        value = semi == std::string_view::npos ? std::string_view() : value.substr(semi + 1);
        auto eq = field.find('=');
        if (eq == std::string_view::npos) return std::nullopt;
        std::string_view k = field.substr(0, eq), v = field.substr(eq + 1);
        if (k == "v") {
            version = v == "2";
        } else if (k == "n") {
            p.name_digest = v;
        } else if (k == "id") {
            p.id = v;
        } else if (k == "tag") {
            p.tag = v;
        } else if (k == "t") {
            has_time = parse_number(v, p.sent_ms) && p.sent_ms > 0;
        } else if (k == "l") {
            has_length = parse_number(v, p.body_length) && p.body_length > 0 &&
                         p.body_length <= k_max_body_length;
        }
    }
    bool shaped = version && has_time && has_length && p.id.size() == 32 && is_hex(p.id) &&
                  p.name_digest.size() == 16 && is_hex(p.name_digest) && p.tag.size() == 64 &&
                  is_hex(p.tag);
    if (!shaped) return std::nullopt;
    return p;
}

std::optional<Probe> verify_message(const Identity& identity, std::string_view message) {
    const std::string digest = identity.name_digest();
    for (const auto& value : relay::header_values(message, k_header, 4)) {
        auto p = parse_header_value(value);
        if (!p || p->name_digest != digest) continue;
        auto expected = compute_tag(identity, *p, message);
        if (expected && CRYPTO_memcmp(p->tag.data(), expected->data(), expected->size()) == 0) {
            return p;
        }
    }
    return std::nullopt;
}

bool candidate_header(const Identity& identity, std::string_view header) {
    const std::string digest = identity.name_digest();
    for (const auto& value : relay::header_values(header, k_header, 4)) {
        auto p = parse_header_value(value);
        if (p && p->name_digest == digest) return true;
    }
    return false;
}

std::string rfc5322_date(std::int64_t unix_ms) {
    std::time_t t = static_cast<std::time_t>(unix_ms / 1000);
    std::tm tm{};
    gmtime_r(&t, &tm);
    static const char* days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s, %d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday],
                  tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                  tm.tm_sec);
    return buf;
}

namespace {

// Printable ASCII only and at most `limit` bytes: the body stays 7bit and short whatever
// the probe name, host name or route hold (the full name is in the tag, not here).
std::string body_text(std::string_view text, std::size_t limit) {
    std::string out;
    for (char ch : text.substr(0, limit)) {
        auto c = static_cast<unsigned char>(ch);
        out += c >= 0x20 && c < 0x7f ? ch : '?';
    }
    if (text.size() > limit) out += "...";
    return out;
}

std::string probe_body(const std::string& name, const MessageFields& f, std::int64_t sent_ms) {
    const std::string crlf = "\r\n";
    return "This is an automatic delivery probe of check '" + body_text(name, 200) + "'," + crlf +
           "sent by mailprobe on " + body_text(f.hostname, 200) + crlf + "via " +
           body_text(f.via, 200) + " at " + rfc5322_date(sent_ms) + "." + crlf +
           "It is deleted by the check that sent it; please leave it alone." + crlf;
}

}  // namespace

ProbeMessage make_probe_message(const Identity& identity, std::int64_t now_ms,
                                const MessageFields& f) {
    ProbeMessage out;
    Probe& p = out.probe;
    p.id = random_hex(16);
    p.name_digest = identity.name_digest();
    p.sent_ms = now_ms;
    std::string to;
    for (const auto& addr : f.to) to += (to.empty() ? "<" : ", <") + addr + ">";
    const std::string crlf = "\r\n";
    std::string head;
    head += "Date: " + rfc5322_date(p.sent_ms) + crlf;
    head += "From: mailprobe <" + f.from + ">" + crlf;
    head += "To: " + to + crlf;
    head += subject_field(f.subject_prefix, p.id);
    head += "Message-ID: <mailprobe." + p.id + "@" + f.hostname + ">" + crlf;
    head += "MIME-Version: 1.0" + crlf;
    head += "Content-Type: text/plain; charset=us-ascii" + crlf;
    head += "Content-Transfer-Encoding: 7bit" + crlf;
    head += "Auto-Submitted: auto-generated" + crlf;  // RFC 3834: no vacation replies
    std::string body = probe_body(identity.name, f, p.sent_ms);
    p.body_length = canonical_text(body).size();
    // Signed exactly as a receiver verifies: the same canonicalization of the same text.
    auto tag = compute_tag(identity, p, head + crlf + body);
    if (!tag || p.body_length > k_max_body_length) {
        throw unknown("internal error: the probe message cannot be signed");
    }
    p.tag = *tag;
    out.text = head + std::string(k_header) + ": " + p.header_value() + crlf + crlf + body;
    return out;
}

}  // namespace mailprobe::probe
