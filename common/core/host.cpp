#include "core/host.hpp"

#include <unistd.h>

namespace mailprobe {

std::string local_hostname() {
    char buf[256] = {};
    if (::gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return "localhost";
    return buf;
}

}  // namespace mailprobe
