#pragma once
// Bad usage as a typed exception, caught in one place (plugin/runner.cpp). Failures of the
// checked service are result/failure.hpp: they carry a state and perfdata.
#include <stdexcept>
#include <string>

namespace mailprobe {

// Bad options or configuration: always UNKNOWN, printed with a usage hint.
class UsageError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

}  // namespace mailprobe
