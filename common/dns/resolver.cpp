#include "dns/resolver.hpp"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <utility>

#include "dns/channel.hpp"
#include "result/failure.hpp"

namespace mailprobe::dns {

namespace {

using Clock = std::chrono::steady_clock;

struct FreeData {
    void operator()(void* data) const { ares_free_data(data); }
};
struct FreeHostent {
    void operator()(hostent* host) const { ares_free_hostent(host); }
};
using MxReply = std::unique_ptr<ares_mx_reply, FreeData>;
using HostReply = std::unique_ptr<hostent, FreeHostent>;

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

std::string seconds_text(double seconds) {
    char text[32];
    std::snprintf(text, sizeof text, "%.1f", seconds);
    return text;
}

// The check's verdict for a failed query; callers handle NXDOMAIN and NODATA themselves.
// `what` reads like "MX for example.com".
// tcp_tried: c-ares retried over TCP (a truncated or oversized UDP answer).
CheckFailure query_failure(int status, const std::string& what, double elapsed_s,
                           bool tcp_tried = false) {
    if (status == ARES_ECONNREFUSED && tcp_tried) {
        return critical(
            "oversized DNS answer (too large for UDP, and the server refused the "
            "TCP retry) resolving " +
            what);
    }
    switch (status) {
        case ARES_EBADRESP:
            return critical("malformed DNS answer resolving " + what);
        case ARES_ETIMEOUT:
        case ARES_ECANCELLED:
            return critical("timeout after " + seconds_text(elapsed_s) + " s resolving " + what);
        case ARES_ESERVFAIL:
            return critical("DNS server failure (SERVFAIL) resolving " + what);
        case ARES_EREFUSED:
            return critical("DNS query refused (REFUSED) resolving " + what);
        case ARES_ENOTIMP:
            return critical("DNS query not implemented (NOTIMP) resolving " + what);
        case ARES_EFORMERR:
            return critical("DNS format error (FORMERR) resolving " + what);
        case ARES_ECONNREFUSED:  // also SERVFAIL/REFUSED from every server (see channel.cpp)
            return critical(
                "no DNS server answered (connection refused, SERVFAIL or REFUSED) "
                "resolving " +
                what);
        default:
            return critical("DNS error resolving " + what + ": " + ares_strerror(status));
    }
}

void require_name(const std::string& name) {
    if (name.empty()) throw UsageError("empty DNS name");
}

const unsigned char* packet_data(const Answer& answer) {
    return answer.packet.data();
}
int packet_size(const Answer& answer) {
    return static_cast<int>(answer.packet.size());
}

// MX records of an answer, or the c-ares status (ENODATA when only e.g. a CNAME came back).
int parse_mx(const Answer& answer, std::vector<MailHost>& records) {
    if (answer.status != ARES_SUCCESS) return answer.status;
    ares_mx_reply* raw = nullptr;
    const int status = ares_parse_mx_reply(packet_data(answer), packet_size(answer), &raw);
    const MxReply reply(raw);
    if (status != ARES_SUCCESS) return status;
    for (const ares_mx_reply* mx = reply.get(); mx != nullptr; mx = mx->next) {
        records.push_back(MailHost{mx->host, mx->priority, false});
    }
    return records.empty() ? ARES_ENODATA : ARES_SUCCESS;
}

// Appends the addresses of an A or AAAA answer; returns the c-ares status.
int parse_addresses(const Answer& answer, int family, std::vector<std::string>& addresses) {
    if (answer.status != ARES_SUCCESS) return answer.status;
    hostent* raw = nullptr;
    const int status =
        family == AF_INET
            ? ares_parse_a_reply(packet_data(answer), packet_size(answer), &raw, nullptr, nullptr)
            : ares_parse_aaaa_reply(packet_data(answer), packet_size(answer), &raw, nullptr,
                                    nullptr);
    const HostReply host(raw);
    if (status != ARES_SUCCESS) return status;
    char text[INET6_ADDRSTRLEN];
    for (char** addr = host->h_addr_list; addr != nullptr && *addr != nullptr; ++addr) {
        if (inet_ntop(host->h_addrtype, *addr, text, sizeof text) != nullptr) {
            addresses.emplace_back(text);
        }
    }
    return ARES_SUCCESS;
}

struct AddressOutcome {
    int status = ARES_SUCCESS;
    std::vector<std::string> addresses;  // IPv4 first
};

// A and AAAA in parallel. Any address is success; otherwise NXDOMAIN beats NODATA, and a real
// error (SERVFAIL, timeout) beats both, since it leaves the other family unknown.
AddressOutcome query_addresses(Channel& channel, const std::string& host,
                               const Deadline& deadline) {
    Answer v4;
    Answer v6;
    channel.start(host, ns_t_a, v4);
    channel.start(host, ns_t_aaaa, v6);
    AddressOutcome out;
    if (!channel.run(deadline, {&v4, &v6})) {
        out.status = ARES_ETIMEOUT;
        return out;
    }
    const int s4 = parse_addresses(v4, AF_INET, out.addresses);
    const int s6 = parse_addresses(v6, AF_INET6, out.addresses);
    const auto absent = [](int s) {
        return s == ARES_ENODATA || s == ARES_ENOTFOUND || s == ARES_SUCCESS;
    };
    if (!out.addresses.empty()) {
        out.status = ARES_SUCCESS;
    } else if (!absent(s4)) {
        out.status = s4;
    } else if (!absent(s6)) {
        out.status = s6;
    } else {
        out.status = (s4 == ARES_ENOTFOUND || s6 == ARES_ENOTFOUND) ? ARES_ENOTFOUND : ARES_ENODATA;
    }
    return out;
}

// RFC 5321 5.1: no MX records means the domain itself is the mail host, if it has an address.
MxResult implicit_mx(Channel& channel, const std::string& domain, const Deadline& deadline,
                     Clock::time_point start) {
    const AddressOutcome out = query_addresses(channel, domain, deadline);
    switch (out.status) {
        case ARES_SUCCESS:
            break;
        case ARES_ENOTFOUND:
            throw critical("domain " + domain + " does not exist (NXDOMAIN)");
        case ARES_ENODATA:
            throw critical("no MX and no address for " + domain);
        default:
            throw query_failure(out.status, "address for " + domain, seconds_since(start),
                                channel.tcp_tried());
    }
    MxResult result;
    result.kind = MxResult::Kind::implicit;
    result.hosts.push_back(MailHost{domain, 0, true});
    return result;
}

}  // namespace

MxResult classify_mx(std::vector<MailHost> records) {
    const auto is_null = [](const MailHost& mx) { return mx.host.empty() || mx.host == "."; };
    MxResult result;
    // RFC 7505 forbids a null MX next to real ones; then the null entry just names no host.
    std::erase_if(records, is_null);
    if (records.empty()) {
        result.kind = MxResult::Kind::null_mx;
        return result;
    }
    std::stable_sort(records.begin(), records.end(), [](const MailHost& a, const MailHost& b) {
        return a.preference < b.preference;
    });
    result.kind = MxResult::Kind::mx;
    result.hosts = std::move(records);
    return result;
}

Resolver::Resolver(const std::optional<ServerAddress>& server)
    : m_channel(std::make_unique<Channel>(server)) {}

Resolver::~Resolver() = default;
Resolver::Resolver(Resolver&&) noexcept = default;
Resolver& Resolver::operator=(Resolver&&) noexcept = default;

MxResult Resolver::lookup_mx(const std::string& domain, const Deadline& deadline) {
    require_name(domain);
    const auto start = Clock::now();
    const std::string what = "MX for " + domain;
    Answer answer;
    m_channel->start(domain, ns_t_mx, answer);
    if (!m_channel->run(deadline, {&answer})) {
        throw query_failure(ARES_ETIMEOUT, what, seconds_since(start));
    }
    std::vector<MailHost> records;
    const int status = parse_mx(answer, records);
    MxResult result;
    if (status == ARES_SUCCESS) {
        result = classify_mx(std::move(records));
    } else if (status == ARES_ENOTFOUND) {
        throw critical("domain " + domain + " does not exist (NXDOMAIN)");
    } else if (status == ARES_ENODATA) {
        result = implicit_mx(*m_channel, domain, deadline, start);
    } else {
        throw query_failure(status, what, seconds_since(start), m_channel->tcp_tried());
    }
    result.elapsed_s = seconds_since(start);
    return result;
}

std::vector<std::string> Resolver::lookup_addresses(const std::string& host,
                                                    const Deadline& deadline,
                                                    const std::string& role) {
    require_name(host);
    const auto start = Clock::now();
    AddressOutcome out = query_addresses(*m_channel, host, deadline);
    switch (out.status) {
        case ARES_SUCCESS:
            return std::move(out.addresses);
        case ARES_ENOTFOUND:
            throw critical(role + " " + host + " has no address (NXDOMAIN)");
        case ARES_ENODATA:
            throw critical(role + " " + host + " has no address (no A or AAAA record)");
        default:
            throw query_failure(out.status, "address for " + role + " " + host,
                                seconds_since(start), m_channel->tcp_tried());
    }
}

}  // namespace mailprobe::dns
