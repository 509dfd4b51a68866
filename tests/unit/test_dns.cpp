#define BOOST_TEST_MODULE dns
#include <boost/test/unit_test.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "core/deadline.hpp"
#include "dns/resolver.hpp"
#include "result/failure.hpp"
#include "support.hpp"

using mailprobe::CheckFailure;
using mailprobe::Deadline;
using mailprobe::Status;
using mailprobe::UsageError;
using namespace mailprobe::dns;
using mailprobe::test::contains;
using mailprobe::test::deadline_slack;
using mailprobe::test::failure_of;

namespace {

// A UDP socket on 127.0.0.1 with a kernel-chosen port; closed on scope exit.
class UdpSocket {
public:
    UdpSocket() : m_fd(socket(AF_INET, SOCK_DGRAM, 0)) {
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof addr;
        if (m_fd < 0 || bind(m_fd, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
            getsockname(m_fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
            throw std::runtime_error("cannot bind a UDP socket on 127.0.0.1");
        }
        m_port = ntohs(addr.sin_port);
    }
    ~UdpSocket() { close(m_fd); }
    UdpSocket(const UdpSocket&) = delete;
    UdpSocket& operator=(const UdpSocket&) = delete;
    int port() const { return m_port; }
    int fd() const { return m_fd; }

private:
    int m_fd;
    int m_port = 0;
};

// A port that is free on 127.0.0.1 for UDP and for TCP (dnsmasq listens on both; under a
// parallel test run a UDP port the kernel hands out is often some connection's TCP port).
int free_dns_port() {
    for (int attempt = 0; attempt < 50; ++attempt) {
        const UdpSocket udp;
        const int tcp = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        addr.sin_port = htons(static_cast<uint16_t>(udp.port()));
        const bool free =
            tcp >= 0 && bind(tcp, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
        if (tcp >= 0) close(tcp);
        if (free) return udp.port();
    }
    throw std::runtime_error("no port free for both UDP and TCP on 127.0.0.1");
}

std::string find_dnsmasq() {
    if (const char* forced = std::getenv("MAILPROBE_DNSMASQ")) {
        if (access(forced, X_OK) == 0) return forced;
        throw std::runtime_error(std::string("MAILPROBE_DNSMASQ=") + forced + " is not executable");
    }
    std::vector<std::string> candidates{"/usr/sbin/dnsmasq"};
    std::istringstream path(std::getenv("PATH") ? std::getenv("PATH") : "");
    for (std::string dir; std::getline(path, dir, ':');) candidates.push_back(dir + "/dnsmasq");
    for (const auto& candidate : candidates) {
        if (access(candidate.c_str(), X_OK) == 0) return candidate;
    }
    // Fail loudly: these tests must not pass just because the server is missing.
    throw std::runtime_error(
        "dnsmasq is not executable (/usr/sbin/dnsmasq or PATH): "
        "install dnsmasq-base to run the DNS tests");
}

// The zone every dnsmasq-backed test queries; everything under .test is answered locally.
std::vector<std::string> zone_arguments() {
    return {
        "--local=/test/",
        // Listed out of order on purpose.
        "--mx-host=mx.test,mx3.mx.test,30",
        "--mx-host=mx.test,mx1.mx.test,10",
        "--mx-host=mx.test,mx2.mx.test,20",
        "--host-record=mx1.mx.test,127.0.0.11",
        "--host-record=aonly.test,127.0.0.2",
        "--host-record=dual.test,127.0.0.3,::1",
        "--txt-record=txtonly.test,hello",
        // RFC 7505 null MX as raw rdata: preference 0, root label.
        "--dns-rr=null.test,15,000000",
    };
}

// A dnsmasq child serving zone_arguments() on 127.0.0.1; killed in the destructor.
class Dnsmasq {
public:
    // The port is freed again for dnsmasq: a parallel test may take it in between, so a start
    // that fails is tried again on a new port.
    Dnsmasq() : m_binary(find_dnsmasq()) {
        for (int attempt = 1;; ++attempt) {
            m_port = free_dns_port();
            m_log = "/tmp/mailprobe-test-dns-" + std::to_string(getpid()) + "-" +
                    std::to_string(m_port) + ".log";
            start();
            try {
                wait_ready();
                return;
            } catch (const std::runtime_error&) {
                unlink(m_log.c_str());
                if (attempt == 3) throw;
            }
        }
    }
    ~Dnsmasq() {
        stop();
        unlink(m_log.c_str());
    }
    Dnsmasq(const Dnsmasq&) = delete;
    Dnsmasq& operator=(const Dnsmasq&) = delete;

    Resolver resolver() const { return Resolver(ServerAddress{"127.0.0.1", m_port}); }

private:
    void start() {
        std::vector<std::string> args{m_binary,
                                      "--no-daemon",
                                      "--no-resolv",
                                      "--no-hosts",
                                      "-C",
                                      "/dev/null",
                                      "--pid-file=",
                                      "--log-facility=-",
                                      "--bind-interfaces",
                                      "--listen-address=127.0.0.1",
                                      "--port=" + std::to_string(m_port)};
        for (auto& arg : zone_arguments()) args.push_back(arg);
        std::vector<char*> argv;
        for (auto& arg : args) argv.push_back(arg.data());
        argv.push_back(nullptr);

        m_pid = fork();
        if (m_pid < 0) throw std::runtime_error("fork failed");
        if (m_pid == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive a crashed test binary
            const int log = open(m_log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
            if (log >= 0) {
                dup2(log, STDOUT_FILENO);
                dup2(log, STDERR_FILENO);
            }
            execv(argv[0], argv.data());
            _exit(127);
        }
    }

    // Until dnsmasq answers, or fail with its log.
    void wait_ready() {
        const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (std::chrono::steady_clock::now() < give_up) {
            int status = 0;
            if (waitpid(m_pid, &status, WNOHANG) == m_pid) {
                m_pid = -1;
                throw std::runtime_error("dnsmasq exited at startup: " + log_text());
            }
            try {
                resolver().lookup_addresses("aonly.test", Deadline::after_seconds(0.1));
                return;
            } catch (const CheckFailure&) {
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
            }
        }
        stop();
        throw std::runtime_error("dnsmasq did not answer within 10 s: " + log_text());
    }

    void stop() {
        if (m_pid <= 0) return;
        kill(m_pid, SIGTERM);
        for (int i = 0; i < 100; ++i) {
            if (waitpid(m_pid, nullptr, WNOHANG) == m_pid) {
                m_pid = -1;
                return;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        kill(m_pid, SIGKILL);
        waitpid(m_pid, nullptr, 0);
        m_pid = -1;
    }

    std::string log_text() const {
        std::ifstream in(m_log);
        std::stringstream text;
        text << in.rdbuf();
        return text.str();
    }

    std::string m_binary;
    std::string m_log;
    int m_port = 0;
    pid_t m_pid = -1;
};

// Answers the first query on `socket` with SERVFAIL: the query echoed with QR and rcode 2.
void answer_servfail(const UdpSocket& socket) {
    pollfd waiting{socket.fd(), POLLIN, 0};
    if (poll(&waiting, 1, 2000) != 1) return;
    unsigned char packet[512];
    sockaddr_storage from{};
    socklen_t from_len = sizeof from;
    const ssize_t size = recvfrom(socket.fd(), packet, sizeof packet, 0,
                                  reinterpret_cast<sockaddr*>(&from), &from_len);
    if (size < 12) return;
    packet[2] |= 0x80;  // QR: a response
    packet[3] = 0x82;   // RA, rcode 2 = SERVFAIL
    sendto(socket.fd(), packet, static_cast<size_t>(size), 0, reinterpret_cast<sockaddr*>(&from),
           from_len);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(server_syntax)

BOOST_AUTO_TEST_CASE(valid_forms) {
    const auto check = [](std::string_view text, const std::string& ip, int port) {
        const ServerAddress server = parse_server(text);
        BOOST_TEST(server.ip == ip);
        BOOST_TEST(server.port == port);
    };
    check("192.0.2.1", "192.0.2.1", 53);
    check("192.0.2.1:5353", "192.0.2.1", 5353);
    check("::1", "::1", 53);
    check("2001:db8::53", "2001:db8::53", 53);
    check("[2001:db8::53]:5300", "2001:db8::53", 5300);
    check("[::1]", "::1", 53);
    check("127.0.0.1:65535", "127.0.0.1", 65535);
}

BOOST_AUTO_TEST_CASE(malformed_forms) {
    for (const char* text :
         {"", "dns.example", "192.0.2", "192.0.2.1:", "192.0.2.1:0", "192.0.2.1:65536",
          "192.0.2.1:53x", "192.0.2.1:-1", "192.0.2.1:53:53", "[::1", "[::1]53",
          "[::1]:", "[192.0.2.1]:53", "[]:53", " 192.0.2.1", "256.0.0.1"}) {
        BOOST_CHECK_THROW(parse_server(text), UsageError);
    }
}

BOOST_AUTO_TEST_CASE(resolver_rejects_bad_server) {
    BOOST_CHECK_THROW(Resolver(ServerAddress{"not-an-ip", 53}), UsageError);
    BOOST_CHECK_THROW(Resolver(ServerAddress{"127.0.0.1", 0}), UsageError);
}

BOOST_AUTO_TEST_CASE(system_configuration_constructs) {
    BOOST_CHECK_NO_THROW(Resolver(std::nullopt));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(classification)

BOOST_AUTO_TEST_CASE(null_mx_spellings) {
    // c-ares 1.18 expands the root target to ""; accept "." too.
    BOOST_TEST((classify_mx({{"", 0}}).kind == MxResult::Kind::null_mx));
    BOOST_TEST((classify_mx({{".", 0}}).kind == MxResult::Kind::null_mx));
    BOOST_TEST(classify_mx({{"", 0}}).hosts.empty());
}

BOOST_AUTO_TEST_CASE(null_mx_next_to_real_mx_is_ignored) {
    const MxResult result = classify_mx({{"b.test", 20}, {"", 0}, {"a.test", 10}});
    BOOST_TEST((result.kind == MxResult::Kind::mx));
    BOOST_REQUIRE(result.hosts.size() == 2u);
    BOOST_TEST(result.hosts[0].host == "a.test");
    BOOST_TEST(result.hosts[1].host == "b.test");
}

BOOST_AUTO_TEST_CASE(equal_preferences_keep_server_order) {
    const MxResult result = classify_mx({{"z.test", 10}, {"y.test", 5}, {"a.test", 10}});
    BOOST_REQUIRE(result.hosts.size() == 3u);
    BOOST_TEST(result.hosts[0].host == "y.test");
    BOOST_TEST(result.hosts[1].host == "z.test");
    BOOST_TEST(result.hosts[2].host == "a.test");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(against_dnsmasq, Dnsmasq)

BOOST_AUTO_TEST_CASE(mx_sorted_by_preference) {
    const MxResult result = resolver().lookup_mx("mx.test", Deadline::after_seconds(2));
    BOOST_TEST((result.kind == MxResult::Kind::mx));
    BOOST_REQUIRE(result.hosts.size() == 3u);
    BOOST_TEST(result.hosts[0].host == "mx1.mx.test");
    BOOST_TEST(result.hosts[0].preference == 10);
    BOOST_TEST(result.hosts[1].host == "mx2.mx.test");
    BOOST_TEST(result.hosts[1].preference == 20);
    BOOST_TEST(result.hosts[2].host == "mx3.mx.test");
    BOOST_TEST(result.hosts[2].preference == 30);
    BOOST_TEST(!result.hosts[0].implicit);
    BOOST_TEST(result.elapsed_s >= 0.0);
    BOOST_TEST(result.elapsed_s < 2.0);
}

BOOST_AUTO_TEST_CASE(implicit_mx_from_a_record) {
    const MxResult result = resolver().lookup_mx("aonly.test", Deadline::after_seconds(2));
    BOOST_TEST((result.kind == MxResult::Kind::implicit));
    BOOST_REQUIRE(result.hosts.size() == 1u);
    BOOST_TEST(result.hosts[0].host == "aonly.test");
    BOOST_TEST(result.hosts[0].implicit);
}

BOOST_AUTO_TEST_CASE(nxdomain) {
    Resolver resolver = this->resolver();
    const Deadline deadline = Deadline::after_seconds(2);
    BOOST_TEST(failure_of([&] { resolver.lookup_mx("nx.test", deadline); }) ==
               "domain nx.test does not exist (NXDOMAIN)");
    BOOST_TEST(failure_of([&] { resolver.lookup_addresses("nx.test", deadline); }) ==
               "host nx.test has no address (NXDOMAIN)");
    BOOST_TEST(failure_of([&] { resolver.lookup_addresses("nx.test", deadline, "MX"); }) ==
               "MX nx.test has no address (NXDOMAIN)");
}

BOOST_AUTO_TEST_CASE(no_mx_and_no_address) {
    Resolver resolver = this->resolver();
    BOOST_TEST(failure_of([&] {
                   resolver.lookup_mx("txtonly.test", Deadline::after_seconds(2));
               }) == "no MX and no address for txtonly.test");
}

BOOST_AUTO_TEST_CASE(null_mx) {
    const MxResult result = resolver().lookup_mx("null.test", Deadline::after_seconds(2));
    BOOST_TEST((result.kind == MxResult::Kind::null_mx));
    BOOST_TEST(result.hosts.empty());
}

BOOST_AUTO_TEST_CASE(addresses_ipv4_first) {
    Resolver resolver = this->resolver();
    const Deadline deadline = Deadline::after_seconds(2);
    BOOST_TEST(resolver.lookup_addresses("mx1.mx.test", deadline) ==
                   std::vector<std::string>{"127.0.0.11"},
               boost::test_tools::per_element());
    BOOST_TEST(resolver.lookup_addresses("dual.test", deadline) ==
                   (std::vector<std::string>{"127.0.0.3", "::1"}),
               boost::test_tools::per_element());
    BOOST_TEST(failure_of([&] { resolver.lookup_addresses("txtonly.test", deadline); }) ==
               "host txtonly.test has no address (no A or AAAA record)");
}

BOOST_AUTO_TEST_CASE(refused_names_the_rcode) {
    // dnsmasq has no upstream for names outside .test and answers REFUSED.
    Resolver resolver = this->resolver();
    const std::string message =
        failure_of([&] { resolver.lookup_mx("example.org", Deadline::after_seconds(2)); });
    BOOST_TEST(contains(message, "REFUSED"), message);
    BOOST_TEST(contains(message, "MX for example.org"), message);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_CASE(silent_server_times_out_within_deadline) {
    const UdpSocket silent;  // bound, never read: queries vanish
    Resolver resolver(ServerAddress{"127.0.0.1", silent.port()});
    const auto start = std::chrono::steady_clock::now();
    const std::string message =
        failure_of([&] { resolver.lookup_mx("x.test", Deadline::after_seconds(1.0)); });
    const double took =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    BOOST_TEST(contains(message, "timeout after"), message);
    BOOST_TEST(contains(message, "resolving MX for x.test"), message);
    BOOST_TEST(took >= 0.9);
    BOOST_TEST(took < 1.0 + deadline_slack());
}

BOOST_AUTO_TEST_CASE(servfail_names_the_rcode) {
    const UdpSocket fake;
    std::thread server(answer_servfail, std::cref(fake));
    Resolver resolver(ServerAddress{"127.0.0.1", fake.port()});
    const std::string message =
        failure_of([&] { resolver.lookup_mx("x.test", Deadline::after_seconds(2)); });
    server.join();
    BOOST_TEST(message == "DNS server failure (SERVFAIL) resolving MX for x.test");
}

BOOST_AUTO_TEST_CASE(expired_deadline_fails_at_once) {
    const UdpSocket silent;
    Resolver resolver(ServerAddress{"127.0.0.1", silent.port()});
    const Deadline spent = Deadline::after_seconds(0);
    const auto start = std::chrono::steady_clock::now();
    const std::string message = failure_of([&] { resolver.lookup_addresses("x.test", spent); });
    BOOST_TEST(contains(message, "timeout after"), message);
    BOOST_TEST(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() <
               deadline_slack());
}
