#pragma once
// Shared by the probe unit tests: a fixed identity and message fields, and what mail
// systems do to a message on its way (written here independently of the code under test:
// the re-encoders below are not the decoders' inverses from common/probe).
#include <openssl/evp.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "checks/plugins.hpp"
#include "checks/roundtrip.hpp"
#include "probe/probe.hpp"
#include "relay/headers.hpp"

namespace probe_test {

using mailprobe::probe::Identity;
using mailprobe::probe::MessageFields;

inline const Identity k_identity{"roundtrip mx1 -> imap", "0123456789abcdef-shared-key"};
inline constexpr std::int64_t k_now = 1700000000123;

inline MessageFields fields() {
    MessageFields f;
    f.from = "probe@example.org";
    f.to = {"inbox@example.net", "second@example.net"};
    f.subject_prefix = "mailprobe";
    f.hostname = "monitor.example.org";
    f.via = "smtp://mx.example.net:25";
    return f;
}

// Flips one hex digit (keeps the value hex and the length unchanged).
inline std::string flip(std::string s, std::size_t at = 0) {
    s[at] = s[at] == '0' ? '1' : '0';
    return s;
}

inline void replace_all(std::string& s, const std::string& from, const std::string& to) {
    for (auto at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
        s.replace(at, from.size(), to);
    }
}

inline std::string replace_first(std::string s, const std::string& from, const std::string& to) {
    auto at = s.find(from);
    if (at != std::string::npos) s.replace(at, from.size(), to);
    return s;
}

inline std::string header_of(const std::string& message, const std::string& name) {
    auto values = mailprobe::relay::header_values(message, name);
    return values.size() == 1 ? values.front() : "<" + std::to_string(values.size()) + " fields>";
}

inline std::size_t body_start(const std::string& m) {
    return m.find("\r\n\r\n") + 4;
}

inline std::string insert_before_body(const std::string& m, const std::string& fields) {
    std::string out = m;
    return out.insert(body_start(m) - 2, fields);
}

inline std::string remove_field(const std::string& m, const std::string& name) {
    auto at = m.find("\r\n" + name + ":");
    return m.substr(0, at + 2) + m.substr(m.find("\r\n", at + 2) + 2);
}

inline std::string to_lf(std::string m) {
    replace_all(m, "\r\n", "\n");
    return m;
}

// Every header line "Name: v a l" becomes "Name:\r\n\tv \r\n   a \r\n   l".
inline std::string refold(const std::string& m) {
    std::string head = m.substr(0, body_start(m) - 2), out;
    std::size_t pos = 0;
    while (pos < head.size()) {
        auto end = head.find("\r\n", pos);
        std::string line = head.substr(pos, end - pos);
        pos = end + 2;
        auto colon = line.find(": ");
        if (colon != std::string::npos) {
            std::string value = line.substr(colon + 2);
            replace_all(value, " ", " \r\n   ");
            line = line.substr(0, colon) + ":\r\n\t" + value;
        }
        out += line + "\r\n";
    }
    return out + m.substr(body_start(m) - 2);
}

inline std::string rename_fields(std::string m) {
    m = replace_first(m, "\r\nSubject:", "\r\nSUBJECT:");
    m = replace_first(m, "\r\nMessage-ID:", "\r\nmessage-id:");
    m = replace_first(m, "Date:", "DATE :");
    return replace_first(m, "\r\nX-Mailprobe:", "\r\nx-mailprobe:");
}

inline std::string with_encoding(const std::string& m, const std::string& encoding) {
    return replace_first(m.substr(0, body_start(m)), "Content-Transfer-Encoding: 7bit",
                         "Content-Transfer-Encoding: " + encoding);
}

// Quoted-printable as an eager gateway writes it: '=' and every 'e' escaped, soft line
// breaks every ~20 characters, line breaks kept.
inline std::string reencode_qp(const std::string& m) {
    std::string body = m.substr(body_start(m)), out;
    std::size_t column = 0;
    for (std::size_t i = 0; i < body.size(); ++i) {
        char c = body[i];
        if (c == '\r' && i + 1 < body.size() && body[i + 1] == '\n') {
            out += "\r\n";
            ++i;
            column = 0;
            continue;
        }
        std::string piece(1, c);
        if (c == '=' || c == 'e') piece = c == '=' ? "=3D" : "=65";
        if (column + piece.size() > 20) {
            out += "=\r\n";
            column = 0;
        }
        out += piece;
        column += piece.size();
    }
    return with_encoding(m, "quoted-printable") + out;
}

inline std::string reencode_base64(const std::string& m) {
    std::string body = m.substr(body_start(m));
    std::vector<unsigned char> buf(4 * (body.size() / 3 + 1) + 1);
    int n = EVP_EncodeBlock(buf.data(), reinterpret_cast<const unsigned char*>(body.data()),
                            static_cast<int>(body.size()));
    std::string encoded(reinterpret_cast<const char*>(buf.data()), static_cast<std::size_t>(n));
    std::string out;
    for (std::size_t i = 0; i < encoded.size(); i += 76) out += encoded.substr(i, 76) + "\r\n";
    return with_encoding(m, "base64") + out;
}

inline std::string spaces_at_line_ends(const std::string& m) {
    std::string body = m.substr(body_start(m));
    replace_all(body, "\r\n", " \t \r\n");
    replace_all(body, " ", "  ");
    return m.substr(0, body_start(m)) + body;
}

inline std::string quote(std::string body) {
    replace_all(body, "\r\n", "\r\n> ");
    return "> " + body;
}

// A round trip configuration parsed from a real command line (--to, --mailbox and a probe
// key file are given; extra follows them), so that building it never touches a state
// directory or the network.
inline mailprobe::checks::RoundTripConfig roundtrip_config(std::vector<std::string> extra = {}) {
    struct KeyFile {
        std::filesystem::path path = std::filesystem::temp_directory_path() /
                                     ("mp-unit-rtkey-" + std::to_string(::getpid()));
        KeyFile() { std::ofstream(path) << "00112233445566778899aabbccddeeff\n"; }
        ~KeyFile() { std::filesystem::remove(path); }
    };
    static const KeyFile key;
    std::vector<std::string> args = {"--to",
                                     "probe@example.org",
                                     "--mailbox",
                                     "imap://probe@127.0.0.1",
                                     "--mailbox-password",
                                     "x",
                                     "--probe-secret-file",
                                     key.path.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    std::vector<const char*> argv{"check_mail_roundtrip"};
    for (const auto& a : args) argv.push_back(a.c_str());
    auto plugin = mailprobe::checks::roundtrip_plugin();
    return mailprobe::checks::RoundTripConfig::from(
        plugin.spec.options.parse(static_cast<int>(argv.size()), argv.data()));
}

}  // namespace probe_test
