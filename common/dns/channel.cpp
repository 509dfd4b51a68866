#include "dns/channel.hpp"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <new>

#include "result/failure.hpp"

namespace mailprobe::dns {

namespace {

// c-ares retransmits UDP itself (1 s, then 2 s, 4 s per server); the poll loop below still
// cancels at the deadline, so a silent server never holds a lookup past it.
constexpr int k_try_timeout_ms = 1000;
constexpr int k_tries = 3;

void init_library() {
    static std::once_flag once;
    static int status = ARES_SUCCESS;
    std::call_once(once, [] { status = ares_library_init(ARES_LIB_INIT_ALL); });
    if (status != ARES_SUCCESS) {
        throw unknown(std::string("cannot initialise c-ares: ") + ares_strerror(status));
    }
}

void use_server(ares_channel channel, const ServerAddress& server) {
    ares_addr_port_node node{};
    if (inet_pton(AF_INET, server.ip.c_str(), &node.addr.addr4) == 1) {
        node.family = AF_INET;
    } else if (inet_pton(AF_INET6, server.ip.c_str(), &node.addr.addr6) == 1) {
        node.family = AF_INET6;
    } else {
        throw UsageError("invalid DNS server address '" + server.ip + "'");
    }
    if (server.port < 1 || server.port > 65535) {
        throw UsageError("invalid DNS server port " + std::to_string(server.port));
    }
    node.udp_port = server.port;
    node.tcp_port = server.port;
    const int status = ares_set_servers_ports(channel, &node);
    if (status != ARES_SUCCESS) {
        throw unknown(std::string("cannot set DNS server: ") + ares_strerror(status));
    }
}

Channel::Handle make_channel(int flags) {
    ares_options options{};
    options.timeout = k_try_timeout_ms;
    options.tries = k_tries;
    options.flags = flags;
    ares_channel raw = nullptr;
    const int status =
        ares_init_options(&raw, &options, ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_FLAGS);
    Channel::Handle channel(raw);
    if (status != ARES_SUCCESS) {
        throw unknown(std::string("cannot create DNS resolver: ") + ares_strerror(status));
    }
    return channel;
}

// Name servers in the system configuration (/etc/resolv.conf).
int system_server_count() {
    const Channel::Handle probe = make_channel(0);
    ares_addr_port_node* servers = nullptr;
    if (ares_get_servers_ports(probe.get(), &servers) != ARES_SUCCESS) return 0;
    int count = 0;
    for (const ares_addr_port_node* node = servers; node != nullptr; node = node->next) ++count;
    ares_free_data(servers);
    return count;
}

// Runs inside c-ares, so it must not throw.
void on_answer(void* arg, int status, int /*timeouts*/, unsigned char* abuf, int alen) noexcept {
    // ares_destroy() reports leftovers; their Answer may be gone, and nobody waits for them.
    if (status == ARES_EDESTRUCTION) return;
    auto* answer = static_cast<Answer*>(arg);
    answer->status = status;
    if (status == ARES_SUCCESS && abuf != nullptr && alen > 0) {
        try {
            answer->packet.assign(abuf, abuf + alen);
        } catch (const std::bad_alloc&) {
            answer->status = ARES_ENOMEM;
        }
    }
    answer->done = true;
}

// Cancels whatever is still queued when run() leaves, so no callback outlives its Answer.
struct CancelPending {
    ares_channel channel;
    ~CancelPending() { ares_cancel(channel); }
};

}  // namespace

Channel::Channel(const std::optional<ServerAddress>& server) {
    init_library();
    // c-ares 1.18 retries SERVFAIL/REFUSED on the next server and then reports them all as
    // ECONNREFUSED. With a single server there is nothing to fail over to, so take the rcode.
    const bool single = server.has_value() || system_server_count() <= 1;
    m_channel = make_channel(single ? ARES_FLAG_NOCHECKRESP : 0);
    if (server) use_server(m_channel.get(), *server);
    ares_set_socket_callback(m_channel.get(), on_socket, this);
}

int Channel::on_socket(ares_socket_t /*fd*/, int type, void* self) {
    if (type == SOCK_STREAM) static_cast<Channel*>(self)->m_tcp_tried = true;
    return ARES_SUCCESS;
}

void Channel::start(const std::string& name, int type, Answer& answer) {
    answer = Answer{};
    m_tcp_tried = false;
    ares_query(m_channel.get(), name.c_str(), ns_c_in, type, on_answer, &answer);
}

bool Channel::run(const Deadline& deadline, const std::vector<const Answer*>& answers) {
    CancelPending guard{m_channel.get()};
    const auto finished = [&answers] {
        return std::all_of(answers.begin(), answers.end(), [](const Answer* a) { return a->done; });
    };
    while (!finished()) {
        if (deadline.expired()) return false;
        wait_once(deadline);
    }
    return true;
}

// One poll() over c-ares' sockets, woken by I/O, c-ares' next retransmit or the deadline.
void Channel::wait_once(const Deadline& deadline) {
    ares_channel channel = m_channel.get();
    ares_socket_t sockets[ARES_GETSOCK_MAXNUM];
    const int mask = ares_getsock(channel, sockets, ARES_GETSOCK_MAXNUM);
    std::vector<pollfd> fds;
    for (int i = 0; i < ARES_GETSOCK_MAXNUM; ++i) {
        const bool in = ARES_GETSOCK_READABLE(mask, i) != 0;
        const bool out = ARES_GETSOCK_WRITABLE(mask, i) != 0;
        if (!in && !out) continue;
        const int events = (in ? POLLIN : 0) | (out ? POLLOUT : 0);
        fds.push_back(pollfd{sockets[i], static_cast<short>(events), 0});
    }

    std::int64_t wait_ms = deadline.remaining_ms();
    timeval next{};
    if (const timeval* t = ares_timeout(channel, nullptr, &next)) {
        // Round up so poll() does not wake just before c-ares' timer and spin.
        const std::int64_t ares_ms = std::int64_t{t->tv_sec} * 1000 + (t->tv_usec + 999) / 1000;
        wait_ms = std::min(wait_ms, ares_ms);
    }

    const int ready = poll(fds.data(), fds.size(), static_cast<int>(wait_ms));
    if (ready < 0) {
        if (errno == EINTR) return;
        throw unknown(std::string("poll() failed during DNS lookup: ") + std::strerror(errno));
    }
    if (ready == 0) {
        ares_process_fd(channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);  // timers only
        return;
    }
    for (const pollfd& fd : fds) {
        if (fd.revents == 0) continue;
        const bool readable = (fd.revents & (POLLIN | POLLERR | POLLHUP)) != 0;
        const bool writable = (fd.revents & POLLOUT) != 0;
        ares_process_fd(channel, readable ? fd.fd : ARES_SOCKET_BAD,
                        writable ? fd.fd : ARES_SOCKET_BAD);
    }
}

}  // namespace mailprobe::dns
