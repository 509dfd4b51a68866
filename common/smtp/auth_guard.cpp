#include "smtp/auth_guard.hpp"

#include <algorithm>
#include <cctype>
#include <sstream>

#include "core/sanitize.hpp"

namespace mailprobe::smtp {

namespace {

std::string upper(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    return out;
}

std::string first_word(std::string_view line) {
    return upper(line.substr(0, line.find(' ')));
}

// "AUTH PLAIN LOGIN" and the pre-RFC form "AUTH=PLAIN LOGIN" -> {"PLAIN", "LOGIN"}.
std::optional<std::vector<std::string>> auth_mechanisms(const std::string& capability) {
    std::string cap = upper(capability);
    if (cap != "AUTH" && !cap.starts_with("AUTH ") && !cap.starts_with("AUTH=")) {
        return std::nullopt;
    }
    std::istringstream words(cap.size() > 5 ? cap.substr(5) : "");
    std::vector<std::string> out;
    for (std::string w; words >> w;) out.push_back(w);
    return out;
}

std::string joined(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
    return out.empty() ? "nothing" : out;
}

}  // namespace

AuthGuard::AuthGuard(bool starttls, const std::string& mechanism)
    : m_starttls_required(starttls), m_mechanism(upper(mechanism)) {}

bool AuthGuard::on_client(std::string_view line) {
    if (m_in_auth) return false;  // a SASL response, not a command
    std::string verb = first_word(line);
    if (verb == "EHLO" || verb == "HELO") {
        m_in_ehlo = true;
        m_helo = verb == "HELO";
        m_reply_lines = 0;
        m_capabilities.clear();
    } else if (verb == "STARTTLS") {
        m_after_starttls = true;
    } else if (verb == "AUTH") {
        m_in_auth = true;
    }
    return false;
}

bool AuthGuard::on_server(std::string_view line) {
    bool final_line = line.size() == 3 || (line.size() > 3 && line[3] == ' ');
    if (m_in_auth) {
        if (line.starts_with("334")) return false;
        m_in_auth = false;
        m_authenticated = line.starts_with("235");
        return false;
    }
    if (!m_in_ehlo) return false;
    // The first line of an EHLO reply names the server; the others are capabilities.
    if (m_reply_lines++ > 0 && line.size() > 4) m_capabilities.emplace_back(line.substr(4));
    if (!final_line) return false;
    m_in_ehlo = false;
    if (!line.starts_with("250")) return false;  // libcurl tries HELO or gives up itself
    // Before STARTTLS a server may hold AUTH back: the EHLO after it is the one that counts.
    if (m_starttls_required && !m_after_starttls) return false;
    return judge();
}

bool AuthGuard::judge() {
    std::optional<std::vector<std::string>> offered;
    bool starttls_offered = false;
    for (const auto& cap : m_capabilities) {
        if (upper(cap) == "STARTTLS") starttls_offered = true;
        if (auto mechs = auth_mechanisms(cap)) offered = mechs;
    }
    std::string shown;
    for (const auto& cap : m_capabilities) shown += (shown.empty() ? "" : ", ") + cap;
    shown = sanitize_text(shown.empty() ? "no extensions" : shown, 200);
    std::string where = std::string(m_after_starttls ? "after STARTTLS: " : "") +
                        (m_helo ? "its HELO reply lists " : "its EHLO lists ");
    std::string hint = !m_after_starttls && starttls_offered
                           ? "; it offers STARTTLS, AUTH may need --smtp-tls starttls"
                           : "";
    if (!offered || offered->empty()) {
        m_refusal = "offers no AUTH (" + where + shown + ")" + hint;
        return true;
    }
    if (!m_mechanism.empty() &&
        std::find(offered->begin(), offered->end(), m_mechanism) == offered->end()) {
        m_refusal = "does not offer AUTH " + m_mechanism + " (" +
                    (m_after_starttls ? "after STARTTLS, " : "") + "it offers " + joined(*offered) +
                    ")";
        return true;
    }
    return false;
}

}  // namespace mailprobe::smtp
