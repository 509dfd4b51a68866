#pragma once
// Recoverable failures travel as typed exceptions and are caught in one place
// (plugin/runner.cpp), which turns them into a check result.
#include <stdexcept>
#include <string>

#include "result/status.hpp"

namespace mailprobe {

// A failure of the service being checked, or of the check itself, with the state it implies.
class CheckFailure : public std::runtime_error {
public:
    CheckFailure(Status status, const std::string& message)
        : std::runtime_error(message), m_status(status) {}
    Status status() const { return m_status; }

private:
    Status m_status;
};

// Bad options or configuration: always UNKNOWN, printed with a usage hint.
class UsageError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

inline CheckFailure critical(const std::string& message) {
    return CheckFailure(Status::critical, message);
}
inline CheckFailure unknown(const std::string& message) {
    return CheckFailure(Status::unknown, message);
}

}  // namespace mailprobe
