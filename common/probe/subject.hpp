#pragma once
// The probe's Subject field, whatever --subject holds: folded at spaces (RFC 5322 2.2.3, no
// line over 78 characters where a word allows it, never over 998), and text that is not
// printable ASCII, or a word too long to fold, as RFC 2047 encoded words (UTF-8, "B").
#include <string>
#include <string_view>

namespace mailprobe::probe {

// "Subject: [<prefix>] probe <id>\r\n", folded and encoded as needed.
std::string subject_field(std::string_view prefix, std::string_view id);

}  // namespace mailprobe::probe
