#include "result/status.hpp"

namespace mailprobe {

int severity(Status status) {
    switch (status) {
        case Status::ok:
            return 0;
        case Status::warning:
            return 1;
        case Status::unknown:
            return 2;
        case Status::critical:
            return 3;
    }
    return 2;
}

Status worst(Status a, Status b) {
    return severity(b) > severity(a) ? b : a;
}

std::string_view status_name(Status status) {
    switch (status) {
        case Status::ok:
            return "OK";
        case Status::warning:
            return "WARNING";
        case Status::critical:
            return "CRITICAL";
        case Status::unknown:
            return "UNKNOWN";
    }
    return "UNKNOWN";
}

int exit_code(Status status) {
    return static_cast<int>(status);
}

}  // namespace mailprobe
