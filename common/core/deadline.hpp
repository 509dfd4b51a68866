#pragma once
// One deadline for the whole run (-t): every network stage asks it how much time is left.
#include <algorithm>
#include <chrono>
#include <cstdint>

namespace mailprobe {

class Deadline {
public:
    using Clock = std::chrono::steady_clock;

    explicit Deadline(std::chrono::milliseconds budget)
        : m_start(Clock::now()), m_end(m_start + budget), m_budget(budget) {}

    static Deadline after_seconds(double seconds) {
        return Deadline(std::chrono::milliseconds(static_cast<std::int64_t>(seconds * 1000.0)));
    }

    // The run's deadline for -t SECONDS. The answer must be out before -t (the monitoring
    // system may kill the plugin then), so the network stages end `reserve_for` earlier,
    // leaving time to shut connections down, print and exit; budget_s() stays -t.
    static Deadline for_timeout(double seconds) {
        Deadline d = after_seconds(seconds);
        d.m_end -= reserve_for(d.m_budget);
        return d;
    }
    // A quarter of the timeout, at most 0.5 s: tear-down does not grow with -t.
    static std::chrono::milliseconds reserve_for(std::chrono::milliseconds timeout) {
        return std::min(std::chrono::milliseconds(500), timeout / 4);
    }

    // Milliseconds left, never negative.
    std::int64_t remaining_ms() const {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(m_end - Clock::now());
        return std::max<std::int64_t>(0, left.count());
    }
    double remaining_s() const { return static_cast<double>(remaining_ms()) / 1000.0; }
    bool expired() const { return Clock::now() >= m_end; }
    double elapsed_s() const {
        return std::chrono::duration<double>(Clock::now() - m_start).count();
    }
    double budget_s() const { return std::chrono::duration<double>(m_budget).count(); }
    Clock::time_point end() const { return m_end; }

    // A sub-deadline that ends no later than this one (e.g. --wait inside -t).
    Deadline capped(std::chrono::milliseconds budget) const {
        Deadline d = *this;
        d.m_end = std::min(m_end, Clock::now() + budget);
        return d;
    }

private:
    Clock::time_point m_start;
    Clock::time_point m_end;
    std::chrono::milliseconds m_budget;
};

}  // namespace mailprobe
