#include "curl/protocol.hpp"

namespace mailprobe::curl {

std::string protocol_name(Protocol protocol) {
    switch (protocol) {
        case Protocol::smtp:
            return "SMTP";
        case Protocol::imap:
            return "IMAP";
        case Protocol::pop3:
            return "POP3";
    }
    return "SMTP";  // not reached: every enumerator is handled above
}

std::string url_scheme(Protocol protocol) {
    switch (protocol) {
        case Protocol::smtp:
            return "smtp";
        case Protocol::imap:
            return "imap";
        case Protocol::pop3:
            return "pop3";
    }
    return "smtp";  // not reached
}

std::optional<Protocol> parse_mailbox_protocol(std::string_view text) {
    if (text == "imap") return Protocol::imap;
    if (text == "pop3") return Protocol::pop3;
    return std::nullopt;
}

}  // namespace mailprobe::curl
