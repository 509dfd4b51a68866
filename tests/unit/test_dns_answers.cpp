// dns::Resolver against scripted, broken answers (issue 11): a malformed or oversized answer
// is named as such (not "no DNS server answered"), and an MX host whose name leads to no
// address (a CNAME chain without A/AAAA) is "has no address", never an empty address list
// (which became a CURLOPT_RESOLVE error string further on).
#define BOOST_TEST_MODULE dns_answers
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/test/unit_test.hpp>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "core/deadline.hpp"
#include "dns/resolver.hpp"
#include "result/failure.hpp"

using mailprobe::CheckFailure;
using mailprobe::Deadline;
using namespace mailprobe::dns;

namespace {

using Bytes = std::vector<unsigned char>;

Bytes encode_name(const std::string& name) {
    Bytes out;
    std::size_t start = 0;
    while (start < name.size()) {
        auto dot = name.find('.', start);
        if (dot == std::string::npos) dot = name.size();
        out.push_back(static_cast<unsigned char>(dot - start));
        out.insert(out.end(), name.begin() + static_cast<long>(start),
                   name.begin() + static_cast<long>(dot));
        start = dot + 1;
    }
    out.push_back(0);
    return out;
}

void put16(Bytes& out, unsigned value) {
    out.push_back(static_cast<unsigned char>(value >> 8));
    out.push_back(static_cast<unsigned char>(value & 0xff));
}

// One resource record named by a pointer to the question name.
Bytes record(unsigned type, const Bytes& rdata) {
    Bytes out{0xc0, 0x0c};
    put16(out, type);
    put16(out, 1);  // IN
    out.insert(out.end(), {0, 0, 0, 60});
    put16(out, static_cast<unsigned>(rdata.size()));
    out.insert(out.end(), rdata.begin(), rdata.end());
    return out;
}

enum class Mode { broken_record, oversized, cname_nowhere };

// The reply to `query` (header + question) that the mode prescribes.
Bytes reply(Mode mode, const Bytes& query) {
    std::size_t end = 12;
    while (end < query.size() && query[end] != 0) end += query[end] + 1u;
    end += 5;  // root label, QTYPE, QCLASS
    const unsigned qtype = (query[end - 4] << 8) | query[end - 3];
    Bytes out(query.begin(), query.begin() + 2);  // id
    out.insert(out.end(), {0x81, 0x80, 0, 1});    // response, RD, RA; one question
    std::vector<Bytes> answers;
    if (mode == Mode::broken_record) {
        answers.push_back({0xc0, 0x0c, 0, 15, 0, 1, 0, 0, 0, 60, 0, 64, 0});  // rdata cut off
    } else if (mode == Mode::oversized) {
        for (unsigned i = 0; i < 40; ++i) {
            Bytes rdata;
            put16(rdata, i);
            Bytes name = encode_name("mx" + std::to_string(i) + ".oversized.example.org");
            rdata.insert(rdata.end(), name.begin(), name.end());
            answers.push_back(record(15, rdata));
        }
    } else if (qtype == 15) {
        Bytes rdata;
        put16(rdata, 10);
        Bytes name = encode_name("mx1.loop.test");
        rdata.insert(rdata.end(), name.begin(), name.end());
        answers.push_back(record(15, rdata));
    } else {
        answers.push_back(record(5, encode_name("mx1.loop.test")));  // CNAME to itself
    }
    put16(out, static_cast<unsigned>(answers.size()));
    out.insert(out.end(), {0, 0, 0, 0});
    out.insert(out.end(), query.begin() + 12, query.begin() + static_cast<long>(end));
    for (const auto& a : answers) out.insert(out.end(), a.begin(), a.end());
    return out;
}

// A UDP server on 127.0.0.1 answering every query by the mode until destroyed; no TCP.
class ScriptedDns {
public:
    explicit ScriptedDns(Mode mode) : m_fd(socket(AF_INET, SOCK_DGRAM, 0)), m_mode(mode) {
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof addr;
        if (m_fd < 0 || bind(m_fd, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
            getsockname(m_fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
            throw std::runtime_error("cannot bind a UDP socket on 127.0.0.1");
        }
        m_port = ntohs(addr.sin_port);
        m_thread = std::thread([this] { serve(); });
    }
    ~ScriptedDns() {
        m_stop = true;
        m_thread.join();
        close(m_fd);
    }
    ScriptedDns(const ScriptedDns&) = delete;
    ScriptedDns& operator=(const ScriptedDns&) = delete;
    Resolver resolver() const { return Resolver(ServerAddress{"127.0.0.1", m_port}); }

private:
    void serve() {
        while (!m_stop) {
            pollfd waiting{m_fd, POLLIN, 0};
            if (poll(&waiting, 1, 50) != 1) continue;
            unsigned char packet[512];
            sockaddr_storage from{};
            socklen_t from_len = sizeof from;
            const ssize_t size = recvfrom(m_fd, packet, sizeof packet, 0,
                                          reinterpret_cast<sockaddr*>(&from), &from_len);
            if (size < 17) continue;
            Bytes answer = reply(m_mode, Bytes(packet, packet + size));
            sendto(m_fd, answer.data(), answer.size(), 0, reinterpret_cast<sockaddr*>(&from),
                   from_len);
        }
    }

    int m_fd;
    int m_port = 0;
    Mode m_mode;
    std::atomic<bool> m_stop{false};
    std::thread m_thread;
};

template <typename Lookup>
std::string failure_of(Lookup lookup) {
    try {
        lookup();
    } catch (const CheckFailure& failure) {
        return failure.what();
    }
    BOOST_FAIL("expected a CheckFailure");
    return {};
}

}  // namespace

BOOST_AUTO_TEST_CASE(malformed_answer_named) {
    ScriptedDns dns(Mode::broken_record);
    Resolver resolver = dns.resolver();
    BOOST_TEST(failure_of([&] { resolver.lookup_mx("x.test", Deadline::after_seconds(3)); }) ==
               "malformed DNS answer resolving MX for x.test");
}

BOOST_AUTO_TEST_CASE(oversized_answer_named) {
    // 40 MX records do not fit 512 bytes: c-ares retries over TCP, which this server refuses.
    ScriptedDns dns(Mode::oversized);
    Resolver resolver = dns.resolver();
    BOOST_TEST(failure_of([&] { resolver.lookup_mx("x.test", Deadline::after_seconds(3)); }) ==
               "oversized DNS answer (too large for UDP, and the server refused the TCP retry) "
               "resolving MX for x.test");
}

BOOST_AUTO_TEST_CASE(mx_whose_name_leads_nowhere_has_no_address) {
    ScriptedDns dns(Mode::cname_nowhere);
    Resolver resolver = dns.resolver();
    const Deadline deadline = Deadline::after_seconds(3);
    MxResult mx = resolver.lookup_mx("loop.test", deadline);
    BOOST_TEST_REQUIRE(mx.hosts.size() == 1U);
    BOOST_TEST(mx.hosts[0].host == "mx1.loop.test");
    BOOST_TEST(failure_of([&] { resolver.lookup_addresses("mx1.loop.test", deadline, "MX"); }) ==
               "MX mx1.loop.test has no address (no A or AAAA record)");
}
