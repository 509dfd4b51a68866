// mailbox::LineConnection and the sessions spoken over it (common/mailbox/line_connection.hpp):
// a failure raised from a conversation carries that conversation's redacted transcript, so
// that the runner can show it at -vvv after the connection is gone; nothing of one failed
// conversation is left behind for the next.
#define BOOST_TEST_MODULE line_connection
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "mailbox/line_connection.hpp"
#include "mailbox/session.hpp"
#include "support.hpp"

using namespace mailprobe;
using mailprobe::test::contains;

namespace {

constexpr const char* k_password = "s3cret-Passw0rd";

// One connection on 127.0.0.1: sends the greeting, then answers each line the client sends
// with reply(line) (nothing for an empty answer) until the client hangs up.
class ScriptedServer {
public:
    using Reply = std::function<std::string(const std::string& line)>;

    ScriptedServer(std::string greeting, Reply reply)
        : m_greeting(std::move(greeting)), m_reply(std::move(reply)) {
        m_listener = ::socket(AF_INET, SOCK_STREAM, 0);
        BOOST_REQUIRE(m_listener >= 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        BOOST_REQUIRE(::bind(m_listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
        BOOST_REQUIRE(::listen(m_listener, 1) == 0);
        socklen_t len = sizeof addr;
        BOOST_REQUIRE(::getsockname(m_listener, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
        m_port = ntohs(addr.sin_port);
        m_thread = std::thread([this] { serve(); });
    }
    ~ScriptedServer() {
        m_thread.join();
        ::close(m_listener);
    }
    ScriptedServer(const ScriptedServer&) = delete;
    ScriptedServer& operator=(const ScriptedServer&) = delete;

    int port() const { return m_port; }

private:
    void serve() {
        pollfd p{m_listener, POLLIN, 0};
        if (::poll(&p, 1, 10000) <= 0) return;
        int fd = ::accept(m_listener, nullptr, nullptr);
        if (fd < 0) return;
        send_all(fd, m_greeting + "\r\n");
        std::string buffer;
        char chunk[4096];
        for (;;) {
            pollfd q{fd, POLLIN, 0};
            if (::poll(&q, 1, 10000) <= 0) break;
            ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
            if (n <= 0) break;
            buffer.append(chunk, static_cast<std::size_t>(n));
            for (auto eol = buffer.find("\r\n"); eol != std::string::npos;
                 eol = buffer.find("\r\n")) {
                std::string answer = m_reply(buffer.substr(0, eol));
                buffer.erase(0, eol + 2);
                if (!answer.empty()) send_all(fd, answer);
            }
        }
        ::close(fd);
    }
    static void send_all(int fd, const std::string& data) {
        for (std::size_t sent = 0; sent < data.size();) {
            ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
            if (n <= 0) return;
            sent += static_cast<std::size_t>(n);
        }
    }

    std::string m_greeting;
    Reply m_reply;
    int m_listener = -1;
    int m_port = 0;
    std::thread m_thread;
};

std::string word(const std::string& line, std::size_t index) {
    std::size_t start = 0;
    for (std::size_t i = 0; i < index; ++i) {
        start = line.find(' ', start);
        if (start == std::string::npos) return "";
        ++start;
    }
    return line.substr(start, line.find(' ', start) - start);
}

// IMAP that refuses every login.
std::string imap_refusing_login(const std::string& line) {
    const std::string tag = word(line, 0), verb = word(line, 1);
    if (verb == "CAPABILITY") return "* CAPABILITY IMAP4rev1\r\n" + tag + " OK done\r\n";
    if (verb == "LOGIN") return tag + " NO [AUTHENTICATIONFAILED] Authentication failed.\r\n";
    return tag + " OK\r\n";
}

// POP3 that lets us in and then cannot open the maildrop.
std::string pop3_locked(const std::string& line) {
    if (line == "CAPA") return "+OK\r\nUSER\r\n.\r\n";
    if (line == "STAT") return "-ERR [IN-USE] maildrop locked\r\n";
    return "+OK\r\n";
}

curl::Endpoint local(curl::Protocol protocol, int port) {
    curl::Endpoint ep;
    ep.protocol = protocol;
    ep.host = "127.0.0.1";
    ep.port = port;
    return ep;
}

curl::Credentials password() {
    curl::Credentials cred;
    cred.user = "probe";
    cred.secret = k_password;
    return cred;
}

// The failure the call throws, or a BOOST_ERROR.
template <typename F>
CheckFailure failure_of(F f) {
    try {
        f();
    } catch (const CheckFailure& e) {
        return e;
    }
    BOOST_ERROR("no CheckFailure");
    return critical("none");
}

bool has_line(const std::vector<std::string>& lines, const std::string& line) {
    return std::find(lines.begin(), lines.end(), line) != lines.end();
}

bool mentions(const std::vector<std::string>& lines, const std::string& text) {
    return std::any_of(lines.begin(), lines.end(),
                       [&](const std::string& l) { return contains(l, text); });
}

CheckFailure refused_imap_login() {
    ScriptedServer server("* OK ready", imap_refusing_login);
    return failure_of([&] {
        mailbox::LineConnection conn(local(curl::Protocol::imap, server.port()), {}, password());
        conn.open(Deadline::after_seconds(10));
    });
}

CheckFailure locked_pop3_maildrop() {
    ScriptedServer server("+OK ready", pop3_locked);
    mailbox::MailboxConfig config;
    config.endpoint = local(curl::Protocol::pop3, server.port());
    config.credentials = password();
    return failure_of([&] { mailbox::make_session(config)->open(Deadline::after_seconds(10)); });
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_refused_login_carries_its_redacted_conversation) {
    CheckFailure f = refused_imap_login();
    BOOST_TEST(contains(f.what(), "IMAP login as probe on 127.0.0.1:"), f.what());
    BOOST_TEST(contains(f.what(), "NO [AUTHENTICATIONFAILED]"), f.what());
    const auto& lines = f.transcript();
    BOOST_REQUIRE(!lines.empty());
    BOOST_TEST(lines.front() == "-- IMAP --");
    BOOST_TEST(has_line(lines, "S: * OK ready"));
    BOOST_TEST(mentions(lines, "LOGIN [redacted]"));
    BOOST_TEST(mentions(lines, "NO [AUTHENTICATIONFAILED] Authentication failed."));
    BOOST_TEST(!mentions(lines, k_password));
}

BOOST_AUTO_TEST_CASE(a_session_failure_carries_the_conversation_it_ended) {
    CheckFailure f = locked_pop3_maildrop();
    BOOST_TEST(contains(f.what(), "POP3 STAT failed on 127.0.0.1:"), f.what());
    const auto& lines = f.transcript();
    BOOST_REQUIRE(!lines.empty());
    BOOST_TEST(lines.front() == "-- POP3 --");
    BOOST_TEST(has_line(lines, "C: USER probe"));
    BOOST_TEST(has_line(lines, "C: PASS [redacted]"));
    BOOST_TEST(has_line(lines, "C: STAT"));
    BOOST_TEST(has_line(lines, "S: -ERR [IN-USE] maildrop locked"));
    BOOST_TEST(!mentions(lines, k_password));
}

BOOST_AUTO_TEST_CASE(nothing_of_one_failed_conversation_is_left_for_the_next) {
    CheckFailure first = refused_imap_login();
    CheckFailure second = locked_pop3_maildrop();
    BOOST_TEST(!mentions(second.transcript(), "IMAP"));
    BOOST_TEST(!mentions(second.transcript(), "LOGIN"));
    BOOST_TEST(!mentions(first.transcript(), "POP3"));
    BOOST_TEST(!mentions(first.transcript(), "STAT"));
    // and a failure no conversation explains carries no transcript at all
    BOOST_TEST(critical("something else").transcript().empty());
}
