#include "options/smtp_options.hpp"

#include <fstream>

#include "core/error.hpp"
#include "core/host.hpp"
#include "options/standard.hpp"

namespace mailprobe {

void add_tls_trust_options(OptionSet& o) {
    o.section("TLS options")
        .value("cacert", 0, "FILE",
               "Trust the CA certificates in FILE (PEM) instead of the system store")
        .flag("insecure", 0, "Do not verify server certificates (testing only)");
}

curl::TlsOptions tls_trust_from(const ParsedOptions& p) {
    curl::TlsOptions t;
    t.cacert = p.get("cacert");
    if (t.cacert && !std::ifstream(*t.cacert)) {
        throw UsageError("--cacert: cannot read '" + *t.cacert + "'");
    }
    t.insecure = p.has("insecure");
    return t;
}

void add_smtp_options(OptionSet& o, bool host_required) {
    o.section("SMTP options")
        .value("smtp-host", 'H', "HOST",
               host_required ? "SMTP server to send the probe through"
                             : "SMTP server to send the probe through (default: the recipient "
                               "domain's MX hosts, in preference order)")
        .value("smtp-port", 'p', "PORT", "SMTP port (25, or 465 with --smtp-tls tls)")
        .value("smtp-tls", 0, "MODE",
               "none, starttls (required: never falls back to plain text) or tls (implicit, "
               "e.g. port 465)",
               "none")
        .value("smtp-user", 0, "USER", "Authenticate (SMTP AUTH) as USER");
    add_secret_options(o, "smtp-password", "MAILPROBE_SMTP_PASSWORD", "SMTP AUTH password");
    o.value("smtp-auth-mech", 0, "MECH", "Insist on this SASL mechanism (e.g. PLAIN, LOGIN)")
        .value("from", 0, "ADDRESS", "Envelope and header sender (default: the first --to)")
        .multi("to", 0, "ADDRESS", "Recipient of the probe")
        .value("helo", 0, "NAME", "Name to announce in EHLO", "this host's name")
        .value("subject", 0, "TEXT", "Subject prefix of the probe, shown as [TEXT]", "mailprobe");
}

SmtpOptions smtp_options_from(const ParsedOptions& p, bool host_required,
                              std::vector<std::string>& warnings) {
    SmtpOptions s;
    auto& ep = s.server.endpoint;
    ep.protocol = "smtp";
    ep.tls = curl::parse_tls_mode(p.get_or("smtp-tls", "none"), "smtp-tls");
    ep.port = p.port("smtp-port").value_or(ep.tls == curl::TlsMode::tls ? 465 : 25);
    auto host = p.get("smtp-host");
    s.host_given = host.has_value();
    if (host_required && !host) throw UsageError("--smtp-host (-H) is required");
    ep.host = host.value_or("");
    s.server.tls = tls_trust_from(p);
    if (auto user = p.get("smtp-user")) {
        auto secret = read_secret(p, "smtp-password", "MAILPROBE_SMTP_PASSWORD", warnings);
        if (!secret) {
            throw UsageError(
                "--smtp-user needs a password: --smtp-password-file FILE or "
                "MAILPROBE_SMTP_PASSWORD");
        }
        s.server.auth = curl::Credentials{*user, *secret, curl::AuthKind::password,
                                          p.get_or("smtp-auth-mech", "")};
    }
    s.server.helo = p.get_or("helo", local_hostname());
    s.envelope.to = p.all("to");
    if (s.envelope.to.empty()) throw UsageError("--to is required");
    for (const auto& addr : s.envelope.to) {
        if (addr.find('@') == std::string::npos ||
            addr.find_first_of("<>\r\n ") != std::string::npos) {
            throw UsageError("--to: '" + addr + "' is not a mail address");
        }
    }
    s.envelope.from = p.get_or("from", s.envelope.to.front());
    if (s.envelope.from.find_first_of("<>\r\n ") != std::string::npos) {
        throw UsageError("--from: '" + s.envelope.from + "' is not a mail address");
    }
    s.subject_prefix = p.get_or("subject", "mailprobe");
    if (s.subject_prefix.find_first_of("\r\n") != std::string::npos) {
        throw UsageError("--subject must be one line");
    }
    return s;
}

}  // namespace mailprobe
