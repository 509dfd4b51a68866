// parse_server(): the --dns-server option text.
#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cctype>
#include <charconv>

#include "core/error.hpp"
#include "dns/resolver.hpp"

namespace mailprobe::dns {

namespace {

UsageError bad_server(std::string_view text) {
    return UsageError("invalid DNS server '" + std::string(text) +
                      "': expected IP, IP:PORT, IPv6 or [IPv6]:PORT");
}

bool is_ipv4(const std::string& text) {
    in_addr addr{};
    return inet_pton(AF_INET, text.c_str(), &addr) == 1;
}

bool is_ipv6(const std::string& text) {
    in6_addr addr{};
    return inet_pton(AF_INET6, text.c_str(), &addr) == 1;
}

int parse_port(std::string_view digits, std::string_view whole) {
    const bool numeric = !digits.empty() && digits.size() <= 5 &&
                         std::all_of(digits.begin(), digits.end(), [](char c) {
                             return std::isdigit(static_cast<unsigned char>(c));
                         });
    if (!numeric) throw bad_server(whole);
    int port = 0;
    std::from_chars(digits.data(), digits.data() + digits.size(), port);
    if (port < 1 || port > 65535) throw bad_server(whole);
    return port;
}

}  // namespace

ServerAddress parse_server(std::string_view text) {
    if (text.starts_with('[')) {
        const auto close = text.find(']');
        if (close == std::string_view::npos) throw bad_server(text);
        std::string ip(text.substr(1, close - 1));
        if (!is_ipv6(ip)) throw bad_server(text);
        const std::string_view rest = text.substr(close + 1);
        if (rest.empty()) return {ip, 53};
        if (rest.front() != ':') throw bad_server(text);
        return {ip, parse_port(rest.substr(1), text)};
    }
    const std::string whole(text);
    if (is_ipv4(whole) || is_ipv6(whole)) return {whole, 53};
    // Bare IPv6 cannot carry a port (it would be ambiguous), so only IPv4:PORT is left.
    const auto colon = text.find(':');
    if (colon == std::string_view::npos || text.rfind(':') != colon) throw bad_server(text);
    std::string ip(text.substr(0, colon));
    if (!is_ipv4(ip)) throw bad_server(text);
    return {ip, parse_port(text.substr(colon + 1), text)};
}

}  // namespace mailprobe::dns
