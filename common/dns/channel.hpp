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

    // Starts a query of class IN; `answer` must stay alive until the next run() returns.
    void start(const std::string& name, int type, Answer& answer);

    // Drives the channel until every answer is done (true) or the deadline passes (false).
    // Never returns or throws with queries pending: leftovers are cancelled.
    bool run(const Deadline& deadline, const std::vector<const Answer*>& answers);

private:
    void wait_once(const Deadline& deadline);

    Handle m_channel;
};

}  // namespace mailprobe::dns
