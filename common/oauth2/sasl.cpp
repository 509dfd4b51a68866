#include "oauth2/sasl.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

#include "core/base64.hpp"
#include "core/sanitize.hpp"

namespace mailprobe::oauth2 {

namespace {

std::string upper(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    return out;
}

// nullopt unless text is canonical-enough base64 (padding optional).
std::optional<std::string> unbase64(std::string_view text) {
    std::string in(text);
    if (in.empty() || in.size() > 65536) return std::nullopt;
    for (char c : in) {
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '/' && c != '=') {
            return std::nullopt;
        }
    }
    while (in.size() % 4 != 0) in += '=';
    std::string out(in.size() / 4 * 3, '\0');
    int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<const unsigned char*>(in.data()),
                            static_cast<int>(in.size()));
    if (n < 0) return std::nullopt;
    std::size_t pad = static_cast<std::size_t>(std::count(in.end() - 2, in.end(), '='));
    out.resize(static_cast<std::size_t>(n) - std::min<std::size_t>(pad, n));
    return out;
}

// RFC 7628 3.1 / RFC 5801: "," and "=" in the authzid are escaped as =2C and =3D.
std::string gs2_escape(std::string_view user) {
    std::string out;
    for (char c : user) {
        if (c == ',') {
            out += "=2C";
        } else if (c == '=') {
            out += "=3D";
        } else {
            out += c;
        }
    }
    return out;
}

std::string field_text(const nlohmann::json& value) {
    if (value.is_string()) return value.get<std::string>();
    return value.dump();
}

}  // namespace

std::optional<Mechanism> parse_mechanism(std::string_view name) {
    std::string u = upper(name);
    if (u == "XOAUTH2") return Mechanism::xoauth2;
    if (u == "OAUTHBEARER") return Mechanism::oauthbearer;
    return std::nullopt;
}

std::string mechanism_name(Mechanism mech) {
    return mech == Mechanism::xoauth2 ? "XOAUTH2" : "OAUTHBEARER";
}

std::string initial_response(Mechanism mech, std::string_view user, std::string_view token,
                             std::string_view host, int port) {
    const std::string auth = "auth=Bearer " + std::string(token) + "\x01\x01";
    if (mech == Mechanism::xoauth2) {
        return base64_encode("user=" + std::string(user) + "\x01" + auth);
    }
    return base64_encode("n,a=" + gs2_escape(user) + ",\x01host=" + std::string(host) +
                         "\x01port=" + std::to_string(port) + "\x01" + auth);
}

std::string abort_response(Mechanism mech) {
    return mech == Mechanism::oauthbearer ? base64_encode("\x01") : "";
}

std::string describe_error_payload(std::string_view base64_payload) {
    auto decoded = unbase64(base64_payload);
    if (!decoded) return sanitize_text(base64_payload, 200);
    nlohmann::json json = nlohmann::json::parse(*decoded, nullptr, false);
    if (!json.is_object()) return sanitize_text(*decoded, 200);
    std::string out;
    for (const char* key : {"status", "schemes", "scope"}) {
        auto it = json.find(key);
        if (it == json.end()) continue;
        out += (out.empty() ? "" : ", ") + std::string(key) + " " + field_text(*it);
    }
    return sanitize_text(out.empty() ? *decoded : out, 200);
}

std::set<std::string> advertised_mechanisms(const std::vector<std::string>& lines,
                                            curl::Protocol protocol) {
    std::set<std::string> mechs;
    bool in_list = false;  // SMTP: inside one multi-line EHLO reply
    for (const auto& raw : lines) {
        if (!raw.starts_with("S: ")) continue;
        std::string line = upper(std::string_view(raw).substr(3));
        std::vector<std::string> words;
        for (std::size_t i = 0; i < line.size();) {
            auto j = line.find_first_of(" []", i);
            if (j == std::string::npos) j = line.size();
            if (j > i) words.push_back(line.substr(i, j - i));
            i = j + 1;
        }
        if (words.empty()) continue;
        if (protocol == curl::Protocol::imap) {
            if (std::find(words.begin(), words.end(), "CAPABILITY") == words.end()) continue;
            mechs.clear();
            for (const auto& w : words) {
                if (w.starts_with("AUTH=") && w.size() > 5) mechs.insert(w.substr(5));
            }
        } else if (protocol == curl::Protocol::pop3) {
            if (words[0] == "CAPA" || words[0] == "+OK") in_list = false;
            if (words[0] != "SASL") continue;
            if (!in_list) mechs.clear();
            in_list = true;
            mechs.insert(words.begin() + 1, words.end());
        } else {
            bool ehlo_start = line.starts_with("250-") && !in_list;
            if (ehlo_start) mechs.clear();
            in_list = line.starts_with("250-");
            if (line.size() > 4 && line.substr(4).starts_with("AUTH") &&
                (line.size() == 8 || line[8] == ' ' || line[8] == '=')) {
                std::string rest = line.size() > 9 ? line.substr(9) : "";
                for (std::size_t i = 0; i < rest.size();) {
                    auto j = rest.find(' ', i);
                    if (j == std::string::npos) j = rest.size();
                    if (j > i) mechs.insert(rest.substr(i, j - i));
                    i = j + 1;
                }
            }
        }
    }
    return mechs;
}

std::string explain_auth_refusal(std::string_view reply, curl::Protocol protocol, bool bearer) {
    const std::string side = protocol == curl::Protocol::smtp ? "smtp" : "mailbox";
    const std::string opt = "--" + side;
    if (reply.find("5.7.30") != std::string_view::npos) {
        return "this tenant requires OAuth2: use " + opt + "-auth-mech XOAUTH2 with " + opt +
               "-token-file (or MAILPROBE_" + upper(side) + "_TOKEN)";
    }
    if (reply.find("5.7.3") != std::string_view::npos &&
        reply.find("Authentication unsuccessful") != std::string_view::npos) {
        // The reply comes with a long server tag: keep the advice short enough for line 1.
        if (bearer)
            return "Microsoft 365 refused the token: SMTP.SendAsApp and mailbox permission?";
        return "basic authentication is off for this mailbox or tenant: use " + opt +
               "-auth-mech XOAUTH2";
    }
    return "";
}

}  // namespace mailprobe::oauth2
