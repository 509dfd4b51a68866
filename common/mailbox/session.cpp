#include "mailbox/session.hpp"

#include "mailbox/imap_session.hpp"
#include "mailbox/pop3_session.hpp"
#include "relay/headers.hpp"

namespace mailprobe::mailbox {

std::string MailboxConfig::display() const {
    std::string url = endpoint.url();
    auto scheme_end = url.find("://") + 3;
    std::string user;
    for (char c : credentials.user) user += c == '@' ? std::string("%40") : std::string(1, c);
    url.insert(scheme_end, user + "@");
    return endpoint.protocol == "imap" ? url + folder : url;
}

std::unique_ptr<MailboxSession> make_session(const MailboxConfig& config) {
    if (config.endpoint.protocol == "imap") return std::make_unique<ImapSession>(config);
    return std::make_unique<Pop3Session>(config);
}

std::optional<probe::Probe> probe_in_header(const std::string& header,
                                            const probe::Identity& identity) {
    for (const auto& value : relay::header_values(header, probe::k_header, 4)) {
        auto p = probe::parse_header_value(value);
        if (p && probe::verify(identity, *p)) return p;
    }
    return std::nullopt;
}

}  // namespace mailprobe::mailbox
