#include "curl/certinfo.hpp"

#include <charconv>
#include <cstring>
#include <ctime>

#include "core/error.hpp"

namespace mailprobe::curl {

namespace {

std::optional<int> whole(std::string_view text) {
    int v = 0;
    if (text.empty() || text.size() > 5) return std::nullopt;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || end != text.data() + text.size() || v < 0) return std::nullopt;
    return v;
}

// Parses a run of digits at `at` (advancing it); nullopt when there is none.
std::optional<int> digits(std::string_view s, std::size_t& at, std::size_t max_len) {
    std::size_t start = at;
    int v = 0;
    while (at < s.size() && at - start < max_len && s[at] >= '0' && s[at] <= '9') {
        v = v * 10 + (s[at] - '0');
        ++at;
    }
    if (at == start) return std::nullopt;
    return v;
}

bool expect(std::string_view s, std::size_t& at, char c) {
    if (at >= s.size() || s[at] != c) return false;
    ++at;
    return true;
}

}  // namespace

CertDays parse_cert_days(std::string_view text) {
    const std::string shown(text);
    auto comma = text.find(',');
    auto warn = whole(text.substr(0, comma));
    std::optional<int> crit;
    if (comma != std::string_view::npos) crit = whole(text.substr(comma + 1));
    if (!warn || (comma != std::string_view::npos && !crit)) {
        throw UsageError("--cert-days: '" + shown + "' is not WARN[,CRIT] (whole days)");
    }
    if (crit && *crit > *warn) {
        throw UsageError("--cert-days: CRIT (" + std::to_string(*crit) +
                         ") must not be more days than WARN (" + std::to_string(*warn) + ")");
    }
    return CertDays{*warn, crit};
}

std::optional<std::int64_t> parse_cert_date(std::string_view s) {
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    std::tm tm{};
    std::size_t at = 0;
    static const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    if (s.size() >= 3 && s[0] >= 'A' && s[0] <= 'Z') {
        // "Nov 27 17:32:05 2036 GMT" (day space-padded: "Nov  7 ...")
        int month = -1;
        for (int i = 0; i < 12; ++i) {
            if (s.substr(0, 3) == months[i]) month = i;
        }
        if (month < 0) return std::nullopt;
        at = 3;
        while (at < s.size() && s[at] == ' ') ++at;
        auto day = digits(s, at, 2);
        if (!day || !expect(s, at, ' ')) return std::nullopt;
        auto h = digits(s, at, 2);
        if (!h || !expect(s, at, ':')) return std::nullopt;
        auto mi = digits(s, at, 2);
        if (!mi || !expect(s, at, ':')) return std::nullopt;
        auto sec = digits(s, at, 2);
        if (!sec) return std::nullopt;
        if (at < s.size() && s[at] == '.') {  // fractional seconds
            ++at;
            digits(s, at, 9);
        }
        if (!expect(s, at, ' ')) return std::nullopt;
        auto year = digits(s, at, 4);
        if (!year) return std::nullopt;
        tm.tm_year = *year - 1900;
        tm.tm_mon = month;
        tm.tm_mday = *day;
        tm.tm_hour = *h;
        tm.tm_min = *mi;
        tm.tm_sec = *sec;
    } else {
        // "2036-11-27 17:32:05 GMT"
        auto year = digits(s, at, 4);
        if (!year || !expect(s, at, '-')) return std::nullopt;
        auto mon = digits(s, at, 2);
        if (!mon || !expect(s, at, '-')) return std::nullopt;
        auto day = digits(s, at, 2);
        if (!day || !expect(s, at, ' ')) return std::nullopt;
        auto h = digits(s, at, 2);
        if (!h || !expect(s, at, ':')) return std::nullopt;
        auto mi = digits(s, at, 2);
        if (!mi || !expect(s, at, ':')) return std::nullopt;
        auto sec = digits(s, at, 2);
        if (!sec) return std::nullopt;
        tm.tm_year = *year - 1900;
        tm.tm_mon = *mon - 1;
        tm.tm_mday = *day;
        tm.tm_hour = *h;
        tm.tm_min = *mi;
        tm.tm_sec = *sec;
    }
    std::string_view zone = s.substr(at);
    while (!zone.empty() && zone.front() == ' ') zone.remove_prefix(1);
    if (zone != "GMT" && zone != "UTC" && zone != "Z" && !zone.empty()) return std::nullopt;
    if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
        tm.tm_min > 59 || tm.tm_sec > 60) {
        return std::nullopt;
    }
    return static_cast<std::int64_t>(timegm(&tm));
}

std::optional<CertExpiry> server_certificate(const Easy& easy) {
    curl_certinfo* info = nullptr;
    if (curl_easy_getinfo(easy.get(), CURLINFO_CERTINFO, &info) != CURLE_OK || !info ||
        info->num_of_certs < 1) {
        return std::nullopt;
    }
    // The first certificate of the chain is the server's own.
    std::optional<CertExpiry> out;
    for (curl_slist* field = info->certinfo[0]; field; field = field->next) {
        std::string_view text(field->data);
        auto colon = text.find(':');
        if (colon == std::string_view::npos) continue;
        std::string_view name = text.substr(0, colon), value = text.substr(colon + 1);
        if (name == "Expire date") {
            if (auto t = parse_cert_date(value)) {
                if (!out) out.emplace();
                out->not_after = *t;
            }
        } else if (name == "Subject") {
            if (!out) out.emplace();
            out->subject = std::string(value.substr(0, 200));
        }
    }
    if (out && out->not_after == 0) return std::nullopt;
    return out;
}

std::int64_t days_left(const CertExpiry& cert, std::int64_t now_unix) {
    std::int64_t secs = cert.not_after - now_unix;
    std::int64_t days = secs / 86400;
    if (secs < 0 && secs % 86400 != 0) --days;  // round down, also below zero
    return days;
}

}  // namespace mailprobe::curl
