#pragma once
// Internal to common/dns: one c-ares channel and the poll() loop that drives it within a Deadline.
#include <ares.h>

#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "core/deadline.hpp"
#include "dns/resolver.hpp"

namespace mailprobe::dns {

// The outcome of one ares_query: c-ares status plus a copy of the raw answer packet.
struct Answer {
    bool done = false;
    int status = ARES_SUCCESS;
    std::vector<unsigned char> packet;
};

class Channel {
public:
    struct Destroy {
        void operator()(ares_channel channel) const { ares_destroy(channel); }
    };
    using Handle = std::unique_ptr<std::remove_pointer_t<ares_channel>, Destroy>;

    explicit Channel(const std::optional<ServerAddress>& server);
    Channel(const Channel&) = delete;  // c-ares holds `this` (on_socket)
    Channel& operator=(const Channel&) = delete;

    // Starts a query of class IN; `answer` must stay alive until the next run() returns.
    void start(const std::string& name, int type, Answer& answer);

    // Whether c-ares retried over TCP since the last start(): it does so when a UDP answer
    // was truncated or too large, so a "connection refused" then means the server would not
    // take the TCP retry of an oversized answer, not that no server answered.
    bool tcp_tried() const { return m_tcp_tried; }

    // Drives the channel until every answer is done (true) or the deadline passes (false).
    // Never returns or throws with queries pending: leftovers are cancelled.
    bool run(const Deadline& deadline, const std::vector<const Answer*>& answers);

private:
    void wait_once(const Deadline& deadline);
    static int on_socket(ares_socket_t fd, int type, void* self);

    Handle m_channel;
    bool m_tcp_tried = false;
};

}  // namespace mailprobe::dns
