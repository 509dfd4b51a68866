#pragma once
// Base64 (RFC 4648, with padding) through OpenSSL: SASL responses, RFC 2047 encoded words
// and the base64 forms of secrets that output scrubbing must catch.
#include <string>
#include <string_view>

namespace mailprobe {

std::string base64_encode(std::string_view data);

}  // namespace mailprobe
