#pragma once
// MX discovery (RFC 5321 section 5.1, RFC 7505 null MX) and address lookup over c-ares,
// always bounded by the run's Deadline.
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/deadline.hpp"

namespace mailprobe::dns {

struct ServerAddress {
    std::string ip;
    int port = 53;
};

// "IP", "IP:PORT", "[IPv6]:PORT", "[IPv6]", "IPv6" -> ServerAddress; throws UsageError otherwise.
// Names are rejected: resolving the resolver would need a resolver.
ServerAddress parse_server(std::string_view text);

struct MailHost {
    std::string host;
    int preference = 0;
    bool implicit = false;  // A/AAAA fallback, no MX
};

struct MxResult {
    enum class Kind { mx, implicit, null_mx } kind = Kind::mx;
    std::vector<MailHost> hosts;  // by preference, ties in server order; empty for null_mx
    double elapsed_s = 0;
};

// Turns the MX records of an answer into a result: a lone target "" or "." (how c-ares spells the
// root) is a null MX; otherwise null targets are dropped and the rest sorted stably.
MxResult classify_mx(std::vector<MailHost> records);

class Channel;  // RAII c-ares channel + poll loop (dns/channel.hpp)

// One c-ares channel. Not thread-safe: one lookup at a time per Resolver.
class Resolver {
public:
    // nullopt: the system resolver configuration (/etc/resolv.conf).
    explicit Resolver(const std::optional<ServerAddress>& server);
    ~Resolver();
    Resolver(Resolver&&) noexcept;
    Resolver& operator=(Resolver&&) noexcept;
    Resolver(const Resolver&) = delete;
    Resolver& operator=(const Resolver&) = delete;

    // Throws CheckFailure (critical) for NXDOMAIN, no MX and no address, timeout and rcodes
    // such as SERVFAIL/REFUSED; NODATA for MX falls back to the implicit MX (the domain itself).
    MxResult lookup_mx(const std::string& domain, const Deadline& deadline);

    // A then AAAA addresses of a host, for CURLOPT_RESOLVE (so the name stays the TLS/SNI name).
    // None (NXDOMAIN, no A/AAAA, a CNAME leading nowhere) -> critical "<role> <host> has no
    // address (...)"; role: "host", "MX" (an MX target), ...
    std::vector<std::string> lookup_addresses(const std::string& host, const Deadline& deadline,
                                              const std::string& role = "host");

private:
    std::unique_ptr<Channel> m_channel;
};

}  // namespace mailprobe::dns
