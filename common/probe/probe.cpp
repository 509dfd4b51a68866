#include "probe/probe.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <charconv>
#include <chrono>
#include <ctime>

#include "core/error.hpp"

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

std::string compute_tag(const Identity& identity, std::string_view id, std::int64_t sent_ms) {
    // The full name (not its digest) is authenticated, with separators that cannot occur
    // in id or time, so no two (name, id, time) triples share a message.
    std::string data =
        "mailprobe-v1\n" + identity.name + "\n" + std::string(id) + "\n" + std::to_string(sent_ms);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!HMAC(EVP_sha256(), identity.key.data(), static_cast<int>(identity.key.size()),
              reinterpret_cast<const unsigned char*>(data.data()), data.size(), md, &len)) {
        throw unknown("OpenSSL HMAC failed");
    }
    return to_hex(md, len);
}

Probe make_probe(const Identity& identity, std::int64_t now_ms) {
    Probe p;
    p.id = random_hex(16);
    p.name_digest = identity.name_digest();
    p.sent_ms = now_ms;
    p.tag = compute_tag(identity, p.id, now_ms);
    return p;
}

std::string Probe::header_value() const {
    return "v=1; n=" + name_digest + "; id=" + id + "; t=" + std::to_string(sent_ms) +
           "; tag=" + tag;
}

std::optional<Probe> parse_header_value(std::string_view value) {
    if (value.size() > 512) return std::nullopt;
    Probe p;
    bool version = false, has_time = false;
    while (!value.empty()) {
        auto semi = value.find(';');
        std::string_view field = trim(value.substr(0, semi));
        value = semi == std::string_view::npos ? std::string_view() : value.substr(semi + 1);
        auto eq = field.find('=');
        if (eq == std::string_view::npos) return std::nullopt;
        std::string_view k = field.substr(0, eq), v = field.substr(eq + 1);
        if (k == "v") {
            version = v == "1";
        } else if (k == "n") {
            p.name_digest = v;
        } else if (k == "id") {
            p.id = v;
        } else if (k == "tag") {
            p.tag = v;
        } else if (k == "t") {
            auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), p.sent_ms);
            has_time = ec == std::errc() && end == v.data() + v.size() && p.sent_ms > 0;
        }
    }
    bool shaped = version && has_time && p.id.size() == 32 && is_hex(p.id) &&
                  p.name_digest.size() == 16 && is_hex(p.name_digest) && p.tag.size() == 64 &&
                  is_hex(p.tag);
    if (!shaped) return std::nullopt;
    return p;
}

bool verify(const Identity& identity, const Probe& probe) {
    if (probe.name_digest != identity.name_digest()) return false;
    std::string expected = compute_tag(identity, probe.id, probe.sent_ms);
    return probe.tag.size() == expected.size() &&
           CRYPTO_memcmp(probe.tag.data(), expected.data(), expected.size()) == 0;
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

std::string build_message(const Probe& p, const std::string& probe_name, const MessageFields& f) {
    std::string to;
    for (const auto& addr : f.to) to += (to.empty() ? "<" : ", <") + addr + ">";
    std::string crlf = "\r\n";
    std::string m;
    m += "Date: " + rfc5322_date(p.sent_ms) + crlf;
    m += "From: mailprobe <" + f.from + ">" + crlf;
    m += "To: " + to + crlf;
    m += "Subject: [" + f.subject_prefix + "] probe " + p.id + crlf;
    m += "Message-ID: <mailprobe." + p.id + "@" + f.hostname + ">" + crlf;
    m += "MIME-Version: 1.0" + crlf;
    m += "Content-Type: text/plain; charset=us-ascii" + crlf;
    m += "Content-Transfer-Encoding: 7bit" + crlf;
    m += "Auto-Submitted: auto-generated" + crlf;  // RFC 3834: no vacation replies
    m += std::string(k_header) + ": " + p.header_value() + crlf;
    m += crlf;
    std::string name;
    for (char c : probe_name) name += (c == '\r' || c == '\n') ? ' ' : c;
    m += "This is an automatic delivery probe of check '" + name + "'," + crlf;
    m += "sent by mailprobe on " + f.hostname + crlf;
    m += "via " + f.via + " at " + rfc5322_date(p.sent_ms) + "." + crlf;
    m += "It is deleted by the check that sent it; please leave it alone." + crlf;
    return m;
}

}  // namespace mailprobe::probe
