#pragma once
// SMTP AUTH must never be skipped in silence (issue 11). libcurl 7.88 skips AUTH without a
// word when the EHLO reply it acts on offers none (smtp_perform_authentication) and then
// sends the message unauthenticated. The guard reads that EHLO reply from the transcript,
// as it arrives and before libcurl sends MAIL FROM, and says when the session must stop.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mailprobe::smtp {

class AuthGuard {
public:
    // starttls: libcurl will send STARTTLS and a second EHLO, the one that counts.
    // mechanism: the one --smtp-auth-mech insists on (empty: any).
    AuthGuard(bool starttls, const std::string& mechanism);

    // Feed every protocol line. True when the session must be stopped now: the EHLO reply
    // that counts offers no AUTH, or not the insisted mechanism.
    bool on_client(std::string_view line);
    bool on_server(std::string_view line);

    // Why the session was stopped: "offers no AUTH (after STARTTLS: its EHLO lists ...)".
    const std::optional<std::string>& refusal() const { return m_refusal; }
    // The server accepted our AUTH (235).
    bool authenticated() const { return m_authenticated; }

private:
    bool judge();

    bool m_starttls_required;
    std::string m_mechanism;
    bool m_after_starttls = false;
    bool m_in_ehlo = false;
    bool m_helo = false;  // libcurl fell back to HELO
    bool m_in_auth = false;
    bool m_authenticated = false;
    std::size_t m_reply_lines = 0;
    std::vector<std::string> m_capabilities;  // of the EHLO reply being read
    std::optional<std::string> m_refusal;
};

}  // namespace mailprobe::smtp
