#pragma once
// Every secret the run has read is registered here, so that the one place that prints
// can scrub it (and its base64 forms) from anything, whatever path the text took.
#include <string>
#include <string_view>

namespace mailprobe::secrets {

void register_secret(std::string_view secret);
// Replaces every registered secret, and its base64 encodings, with "********".
std::string scrub(std::string text);
// For tests.
void clear();

}  // namespace mailprobe::secrets
