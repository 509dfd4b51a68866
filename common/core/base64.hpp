#pragma once
// Base64 (RFC 4648, with padding) through OpenSSL: SASL responses, RFC 2047 encoded words
// and the base64 forms of secrets that output scrubbing must catch.
#include <optional>
#include <string>
#include <string_view>

namespace mailprobe {

std::string base64_encode(std::string_view data);

// base64url without padding (RFC 4648 section 5, RFC 7515 section 2): JWS parts, x5t.
std::string base64url_encode(std::string_view data);
// nullopt for a character outside the base64url alphabet or an impossible length; trailing
// '=' padding is accepted.
std::optional<std::string> base64url_decode(std::string_view text);

}  // namespace mailprobe
