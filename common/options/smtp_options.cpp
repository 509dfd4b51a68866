#include "options/smtp_options.hpp"

#include <fstream>
#include <regex>

#include "core/error.hpp"
#include "core/host.hpp"
#include "core/number.hpp"
#include "options/oauth2_options.hpp"
#include "options/standard.hpp"
#include "probe/subject.hpp"
#include "smtp/sendmail.hpp"

namespace mailprobe {

void add_tls_trust_options(OptionSet& o) {
    o.section("TLS options")
        .value("cacert", 0, "FILE",
               "Trust the CA certificates in FILE (PEM) instead of the system store")
        .flag("insecure", 0, "Do not verify server certificates (testing only)")
        .value("cert-days", 'D', "WARN[,CRIT]",
               "WARNING (CRITICAL) when a server certificate (SMTP, IMAP or POP3) expires in "
               "fewer than WARN (CRIT) days; reports the days left as perfdata");
}

curl::TlsOptions tls_trust_from(const ParsedOptions& p) {
    curl::TlsOptions t;
    t.cacert = p.get("cacert");
    if (t.cacert && !std::ifstream(*t.cacert)) {
        throw UsageError("--cacert: cannot read '" + *t.cacert + "'");
    }
    t.insecure = p.has("insecure");
    if (auto days = p.get("cert-days")) t.cert_days = curl::parse_cert_days(*days);
    return t;
}

void add_smtp_options(OptionSet& o) {
    o.section("SMTP options")
        .value("smtp-host", 'H', "HOST",
               "SMTP server to send the probe through (default: the first recipient domain's "
               "MX hosts, tried in preference order)")
        .alias("hostname")
        .value("smtp-port", 'p', "PORT", "SMTP port (25, or 465 with --smtp-tls tls)")
        .value("smtp-tls", 0, "MODE",
               "none, starttls (required: never falls back to plain text) or tls (implicit, "
               "e.g. port 465)",
               "none")
        .flag("starttls", 'S', "Same as --smtp-tls starttls")
        .value("smtp-user", 0, "USER", "Authenticate (SMTP AUTH) as USER");
    add_secret_options(o, "smtp-password", "MAILPROBE_SMTP_PASSWORD", "SMTP AUTH password");
    o.value("smtp-auth-mech", 0, "MECH",
            "Insist on this SASL mechanism (e.g. PLAIN, LOGIN; XOAUTH2 or OAUTHBEARER log in "
            "with an OAuth2 token instead of the password)");
    add_token_options(o, Side::smtp);
    o.value("from", 0, "ADDRESS", "Envelope and header sender (default: the first --to)")
        .value("return-path", 0, "ADDRESS",
               "Envelope sender (MAIL FROM), where bounces go: an address whose mail lands in "
               "the mailbox mailprobe reads (default: --from)")
        .flag("return-path-verp", 0,
              "Send with MAIL FROM local+<probe id>@domain (the return path with VERP), so "
              "that a bounce names the probe in its own address; the domain must deliver "
              "plus-addressed mail to local")
        .multi("to", 0, "ADDRESS",
               "Recipient of the probe; several recipients as a comma-separated list or by "
               "repeating the option")
        .value("helo", 0, "NAME",
               "Name to announce in EHLO: a host name or an address literal such as "
               "[192.0.2.1]",
               "this host's name")
        .value("subject", 0, "TEXT", "Subject prefix of the probe, shown as [TEXT]",
               SmtpOptions::default_subject)
        .optional_value("sendmail", "COMMAND",
                        "Submit through a local sendmail program instead of SMTP (run without a "
                        "shell; default command: " +
                            std::string(smtp::k_default_sendmail) + ")",
                        smtp::k_default_sendmail)
        .value("dns-server", 0, "IP[:PORT]", "Resolver to ask for MX and address records")
        .value("retry-deferred", 0, "N",
               "Retry up to N times after a temporary (4xx) SMTP reply, within the deadline",
               std::to_string(SmtpOptions::default_retry_deferred))
        .value("retry-interval", 0, "SECONDS", "Pause before each retry",
               format_number(SmtpOptions::default_retry_interval_s));
}

namespace {

// "a@b,c@d" and repeated --to both give a list; an empty item is a typo, not a recipient.
std::vector<std::string> recipients(const ParsedOptions& p) {
    std::vector<std::string> out;
    for (const auto& value : p.all("to")) {
        std::size_t start = 0;
        while (true) {
            auto comma = value.find(',', start);
            std::string item =
                value.substr(start, comma == std::string::npos ? comma : comma - start);
            auto first = item.find_first_not_of(' ');
            auto last = item.find_last_not_of(' ');
            item = first == std::string::npos ? "" : item.substr(first, last - first + 1);
            if (item.empty()) throw UsageError("--to: empty address in '" + value + "'");
            if (item.find('@') == std::string::npos ||
                item.find_first_of("<> \t") != std::string::npos) {
                throw UsageError("--to: '" + item + "' is not a mail address");
            }
            out.push_back(item);
            if (comma == std::string::npos) break;
            start = comma + 1;
        }
    }
    if (out.empty()) throw UsageError("--to is required");
    return out;
}

// EHLO takes a domain or an address literal (RFC 5321 4.1.1.1); anything else would make a
// malformed command (or, with libcurl, a malformed URL).
std::string helo_name(const ParsedOptions& p) {
    auto given = p.get("helo");
    if (!given) return local_hostname();
    static const std::regex valid(R"(^([A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*\.?|\[[0-9A-Za-z:.]+\])$)");
    if (given->size() > 255 || !std::regex_match(*given, valid)) {
        throw UsageError("--helo: '" + *given +
                         "' is not a host name or address literal (letters, digits, '-', '.'; "
                         "or [192.0.2.1])");
    }
    return *given;
}

// A return path is written into MAIL FROM (and sendmail's -f): a plain local@domain
// address, with room for "+<probe id>" under VERP (local part at most 64 octets).
std::string return_path(const ParsedOptions& p, const std::string& from, bool verp) {
    if (!p.has("return-path") && !verp) return from;  // --from was checked already
    std::string value = p.get_or("return-path", from);
    static const std::regex valid(
        R"(^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$)");
    if (value.size() > 254 || !std::regex_match(value, valid)) {
        throw UsageError("--return-path: '" + value + "' is not a mail address (local@domain)");
    }
    if (verp && value.find('@') + 33 > 64) {
        throw UsageError("--return-path-verp: the local part of '" + value +
                         "' leaves no room for +<probe id> (64 octets at most)");
    }
    return value;
}

}  // namespace

smtp::Envelope probe_envelope(const SmtpOptions& o, const std::string& probe_id) {
    smtp::Envelope e = o.envelope;
    e.from = o.return_path;
    if (o.return_path_verp) e.from.insert(e.from.rfind('@'), "+" + probe_id);
    return e;
}

SmtpOptions smtp_options_from(const ParsedOptions& p, std::vector<std::string>& warnings) {
    SmtpOptions s;
    auto& ep = s.server.endpoint;
    ep.protocol = curl::Protocol::smtp;
    if (p.has("starttls") && p.get_or("smtp-tls", "starttls") != "starttls")
        throw UsageError("-S/--starttls and --smtp-tls " + *p.get("smtp-tls") +
                         " exclude each other");
    ep.tls = curl::parse_tls_mode(p.get_or("smtp-tls", p.has("starttls") ? "starttls" : "none"),
                                  "smtp-tls");
    ep.port = p.port("smtp-port").value_or(ep.tls == curl::TlsMode::tls ? 465 : 25);
    auto host = p.get("smtp-host");
    s.host_given = host.has_value();
    ep.host = host.value_or("");
    if (auto command = p.get("sendmail")) {
        if (host) throw UsageError("--sendmail and --smtp-host exclude each other");
        s.sendmail = smtp::split_command(*command);
        if (s.sendmail.empty()) throw UsageError("--sendmail: empty command");
    }
    if (auto server = p.get("dns-server")) s.dns_server = dns::parse_server(*server);
    s.retry_deferred =
        p.integer("retry-deferred", 0, 100).value_or(SmtpOptions::default_retry_deferred);
    s.retry_interval_s =
        p.seconds("retry-interval").value_or(SmtpOptions::default_retry_interval_s);
    s.server.tls = tls_trust_from(p);
    if (p.has("smtp-auth-mech") && !p.has("smtp-user")) {
        throw UsageError("--smtp-auth-mech needs --smtp-user");
    }
    if (auto bearer = bearer_credentials(p, Side::smtp, p.get_or("smtp-user", ""), warnings)) {
        s.server.auth = *bearer;
    } else if (auto user = p.get("smtp-user")) {
        auto secret = read_secret(p, "smtp-password", "MAILPROBE_SMTP_PASSWORD", warnings);
        if (!secret) {
            throw UsageError(
                "--smtp-user needs a password: --smtp-password-file FILE or "
                "MAILPROBE_SMTP_PASSWORD");
        }
        auto mech = p.get("smtp-auth-mech");
        s.server.auth =
            curl::Credentials{*user, *secret, curl::AuthKind::password,
                              mech ? sasl_mechanism("smtp-auth-mech", *mech) : "", nullptr};
    }
    s.server.helo = helo_name(p);
    s.envelope.to = recipients(p);
    s.envelope.from = p.get_or("from", s.envelope.to.front());
    if (s.envelope.from.find_first_of("<> \t") != std::string::npos) {
        throw UsageError("--from: '" + s.envelope.from + "' is not a mail address");
    }
    s.return_path_verp = p.has("return-path-verp");
    s.return_path_given = p.has("return-path") || s.return_path_verp;
    s.return_path = return_path(p, s.envelope.from, s.return_path_verp);
    s.subject_prefix = p.get_or("subject", SmtpOptions::default_subject);
    if (s.subject_prefix.find_first_of("\r\n") != std::string::npos) {
        throw UsageError("--subject must be one line");
    }
    if (s.subject_prefix.size() > probe::k_max_subject_prefix) {  // the probe must stay fetchable
        throw UsageError("--subject is longer than " + std::to_string(probe::k_max_subject_prefix) +
                         " bytes");
    }
    return s;
}

}  // namespace mailprobe
