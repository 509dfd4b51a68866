#pragma once
// IMAP mailbox names: UTF-8 on our side (command line, output), modified UTF-7 on the wire
// (RFC 3501 §5.1.3) unless the server enabled UTF8=ACCEPT (RFC 6855). Pure functions.
#include <optional>
#include <string>
#include <string_view>

namespace mailprobe::mailbox::imap {

// True when text is well-formed UTF-8 (no overlongs, surrogates or code points > U+10FFFF).
bool valid_utf8(std::string_view text);

// "Ünïcode Test" -> "&ANw-n&AO8-code Test"; "&" -> "&-". Input must be valid UTF-8.
std::string encode_mailbox_name(std::string_view utf8);

// The inverse; nullopt for text that is not valid modified UTF-7 (bad base64, unpaired
// surrogates, an encoded run of printable ASCII, unterminated shift).
std::optional<std::string> decode_mailbox_name(std::string_view mutf7);

}  // namespace mailprobe::mailbox::imap
