#include "checks/ready_gate.hpp"

namespace mailprobe::checks {

void ReadyGate::settle(State state) {
    {
        std::lock_guard lock(m_mutex);
        m_state = state;
    }
    m_cv.notify_all();
}

bool ReadyGate::wait(const Deadline& deadline) {
    std::unique_lock lock(m_mutex);
    m_cv.wait_until(lock, deadline.end(), [this] { return m_state != State::waiting; });
    return m_state == State::open;
}

}  // namespace mailprobe::checks
