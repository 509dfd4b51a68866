#pragma once
#include <string>

namespace mailprobe {
// This machine's name as gethostname() gives it (not looked up in DNS, so fully qualified only
// when the system is configured so); "localhost" if it has none.
std::string local_hostname();
}  // namespace mailprobe
