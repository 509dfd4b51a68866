#include "mailbox/session.hpp"

#include "mailbox/imap_session.hpp"
#include "mailbox/pop3_session.hpp"

namespace mailprobe::mailbox {

std::string MailboxConfig::display() const {
    // For people: no URL percent-encoding of the user name.
    std::string where = credentials.user + " on " + endpoint.display();
    return endpoint.protocol == curl::Protocol::imap ? where + "/" + folder : where + " (POP3)";
}

std::unique_ptr<MailboxSession> make_session(const MailboxConfig& config) {
    if (config.endpoint.protocol == curl::Protocol::imap)
        return std::make_unique<ImapSession>(config);
    return std::make_unique<Pop3Session>(config);
}

std::string header_block(std::string_view message) {
    for (std::size_t pos = 0; pos < message.size();) {
        std::size_t nl = message.find('\n', pos);
        if (nl == std::string_view::npos) break;
        std::string_view line = message.substr(pos, nl - pos);
        if (line.empty() || line == "\r") return std::string(message.substr(0, nl + 1));
        pos = nl + 1;
    }
    return std::string(message);
}

}  // namespace mailprobe::mailbox
