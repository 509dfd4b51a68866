#pragma once
// The protocol a connection speaks. Text ("--mailbox-protocol pop3", "imaps://...") becomes
// a Protocol once, where the options are parsed; everything after switches on the enum.
#include <optional>
#include <string>
#include <string_view>

namespace mailprobe::curl {

enum class Protocol { smtp, imap, pop3 };

// "SMTP" / "IMAP" / "POP3": how messages and transcripts name it.
std::string protocol_name(Protocol protocol);
// "smtp" / "imap" / "pop3": the URL scheme without the "s" of implicit TLS.
std::string url_scheme(Protocol protocol);
// The mailbox protocols by their option text, "imap" or "pop3"; nullopt for anything else.
std::optional<Protocol> parse_mailbox_protocol(std::string_view text);

}  // namespace mailprobe::curl
