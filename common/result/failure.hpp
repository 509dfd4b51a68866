#pragma once
// Recoverable failures travel as typed exceptions and are caught in one place
// (plugin/runner.cpp), which turns them into a check result.
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "result/perfdata.hpp"
#include "result/status.hpp"

namespace mailprobe {

// A failure of the service being checked, or of the check itself, with the state it implies.
class CheckFailure : public std::runtime_error {
public:
    CheckFailure(Status status, const std::string& message)
        : std::runtime_error(message), m_status(status) {}
    Status status() const { return m_status; }
    // Perfdata of the stages that completed before the failure, so that graphs have no
    // gaps (the runner adds "time").
    const std::vector<PerfDatum>& perfdata() const { return m_perfdata; }
    void add_perfdata(const std::vector<PerfDatum>& completed) {
        m_perfdata.insert(m_perfdata.end(), completed.begin(), completed.end());
    }
    // The redacted lines of the conversation that failed ("-- SMTP --", "C: ...", "S: ..."),
    // shown at -vvv; empty when no conversation explains the failure.
    const std::vector<std::string>& transcript() const { return m_transcript; }
    // The innermost conversation explains the failure: a failure that already carries a
    // transcript keeps it.
    void attach_transcript(std::vector<std::string> lines) {
        if (m_transcript.empty()) m_transcript = std::move(lines);
    }

private:
    Status m_status;
    std::vector<PerfDatum> m_perfdata;
    std::vector<std::string> m_transcript;
};

inline CheckFailure critical(const std::string& message) {
    return CheckFailure(Status::critical, message);
}
inline CheckFailure unknown(const std::string& message) {
    return CheckFailure(Status::unknown, message);
}

}  // namespace mailprobe
