#pragma once
#include <string>

namespace mailprobe {
// This machine's name, fully qualified when the resolver knows it; "localhost" if unknown.
std::string local_hostname();
}  // namespace mailprobe
