#pragma once
#include <string_view>

namespace mailprobe {

// Values are the plugin exit codes.
enum class Status { ok = 0, warning = 1, critical = 2, unknown = 3 };

// How bad a state is: OK < WARNING < UNKNOWN < CRITICAL.
int severity(Status status);
// The worse of two states.
Status worst(Status a, Status b);
std::string_view status_name(Status status);
int exit_code(Status status);

}  // namespace mailprobe
