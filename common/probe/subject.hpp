#pragma once
// The probe's Subject field, whatever --subject holds: folded at spaces (RFC 5322 2.2.3, no
// line over 78 characters where a word allows it, never over 998), and text that is not
// printable ASCII, or a word too long to fold, as RFC 2047 encoded words (UTF-8, "B").
#include <cstddef>
#include <string>
#include <string_view>

namespace mailprobe::probe {

// Longest --subject accepted: the probe's header must stay well within what is fetched to
// verify it (mailbox::k_verify_bytes), even encoded.
inline constexpr std::size_t k_max_subject_prefix = 2000;

// "Subject: [<prefix>] probe <id>\r\n", folded and encoded as needed.
std::string subject_field(std::string_view prefix, std::string_view id);

}  // namespace mailprobe::probe
