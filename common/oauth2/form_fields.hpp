#pragma once
// The fields of an application/x-www-form-urlencoded token request, in order.
#include <string>
#include <utility>
#include <vector>

namespace mailprobe::oauth2 {

using FormFields = std::vector<std::pair<std::string, std::string>>;

}  // namespace mailprobe::oauth2
