#pragma once
// Lets the sending side hold the message body until the mailbox is open, so that the probe
// can only arrive after the mailbox noted where new mail starts (IMAP UIDNEXT).
#include <condition_variable>
#include <mutex>

#include "core/deadline.hpp"

namespace mailprobe::checks {

class ReadyGate {
public:
    enum class State {
        waiting,  // the mailbox side has not said yet
        open,     // the mailbox is open: send
        failed    // the mailbox side failed: do not send
    };

    void open() { settle(State::open); }
    // Also after open(): a mailbox that fails later must not receive the probe.
    void fail() { settle(State::failed); }

    // Waits until the gate is settled or the deadline passes; true only when it is open.
    bool wait(const Deadline& deadline);

private:
    void settle(State state);

    std::mutex m_mutex;
    std::condition_variable m_cv;
    State m_state = State::waiting;
};

}  // namespace mailprobe::checks
