#include "options/mailbox_options.hpp"

#include <regex>

#include "core/error.hpp"
#include "mailbox/mailbox_name.hpp"
#include "options/oauth2_options.hpp"
#include "options/standard.hpp"

namespace mailprobe {

void add_mailbox_options(OptionSet& o) {
    o.section("Mailbox options")
        .value("mailbox", 0, "URL",
               "Shortcut for the options below: imap[s]://USER@HOST[:PORT][/FOLDER] or "
               "pop3[s]://USER@HOST[:PORT]")
        .value("mailbox-protocol", 0, "PROTO", "imap or pop3", "imap")
        .value("mailbox-host", 0, "HOST", "IMAP or POP3 server holding the probe's mailbox")
        .value("mailbox-port", 0, "PORT", "Port (imap 143/993, pop3 110/995 with tls)")
        .value("mailbox-tls", 0, "MODE", "none, starttls (required) or tls (implicit)", "none")
        .value("mailbox-user", 0, "USER", "Mailbox login name");
    add_secret_options(o, "mailbox-password", "MAILPROBE_MAILBOX_PASSWORD", "mailbox password");
    o.value("mailbox-auth-mech", 0, "MECH",
            "Insist on this SASL mechanism (XOAUTH2 or OAUTHBEARER: log in with an OAuth2 "
            "token instead of the password)");
    add_token_options(o, Side::mailbox);
    o.value("folder", 0, "NAME", "IMAP folder the probe is delivered to", "INBOX")
        .multi("junk-folder", 0, "NAME",
               "IMAP folder where a misfiled probe may land: found there means WARNING")
        .value("poll-interval", 0, "SECONDS",
               "How often to look again when IMAP IDLE is not available (and for POP3, "
               "which needs a new login to see new mail)",
               "1")
        .flag("no-idle", 0, "Do not use IMAP IDLE; poll instead")
        .value("pop3-scan-limit", 0, "N", "POP3: how many of the newest messages to examine", "50")
        .flag("keep", 0, "Leave found probes in the mailbox");
}

void apply_mailbox_url(const std::string& url, mailbox::MailboxConfig& c, bool& tls_given,
                       bool& port_given) {
    static const std::regex re(
        R"(^(imap|imaps|pop3|pop3s)://(([^/]+)@)?([^:/@]+|\[[0-9a-fA-F:.]+\])(:([0-9]{1,5}))?(/(.*))?$)");
    std::smatch m;
    if (!std::regex_match(url, m, re)) {
        throw UsageError("--mailbox: '" + url +
                         "' is not imap[s]://user@host[:port][/folder] "
                         "or pop3[s]://user@host[:port]");
    }
    std::string scheme = m[1].str();
    c.endpoint.protocol = curl::parse_mailbox_protocol(scheme.substr(0, 4)).value();
    if (scheme.back() == 's') {
        c.endpoint.tls = curl::TlsMode::tls;
        tls_given = true;
    }
    if (m[3].matched) {
        std::string user = m[3].str();  // the last '@' separates the host; %40 also works
        for (auto pos = user.find("%40"); pos != std::string::npos; pos = user.find("%40")) {
            user.replace(pos, 3, "@");
        }
        c.credentials.user = user;
    }
    std::string host = m[4].str();
    if (host.front() == '[') host = host.substr(1, host.size() - 2);
    c.endpoint.host = host;
    if (m[6].matched) {
        // The same range as --mailbox-port: port 0 or 99999 is a typo, not a server.
        int port = std::stoi(m[6].str());
        if (port < 1 || port > 65535) {
            throw UsageError("--mailbox: port '" + m[6].str() +
                             "' must be a whole number from 1 to 65535");
        }
        c.endpoint.port = port;
        port_given = true;
    }
    if (m[8].matched && !m[8].str().empty()) c.folder = m[8].str();
}

static int default_port(curl::Protocol protocol, curl::TlsMode tls) {
    bool implicit = tls == curl::TlsMode::tls;
    if (protocol == curl::Protocol::imap) return implicit ? 993 : 143;
    return implicit ? 995 : 110;
}

mailbox::MailboxConfig mailbox_config_from(const ParsedOptions& p, const curl::TlsOptions& tls,
                                           std::vector<std::string>& warnings) {
    mailbox::MailboxConfig c;
    c.tls = tls;
    c.endpoint.protocol = curl::Protocol::imap;
    bool tls_given = false, port_given = false;
    if (auto url = p.get("mailbox")) apply_mailbox_url(*url, c, tls_given, port_given);
    if (auto proto = p.get("mailbox-protocol")) {
        auto parsed = curl::parse_mailbox_protocol(*proto);
        if (!parsed) throw UsageError("--mailbox-protocol: '" + *proto + "' is not imap or pop3");
        c.endpoint.protocol = *parsed;
    }
    if (auto host = p.get("mailbox-host")) c.endpoint.host = *host;
    if (c.endpoint.host.empty()) throw UsageError("--mailbox-host (or --mailbox URL) is required");
    if (auto mode = p.get("mailbox-tls"))
        c.endpoint.tls = curl::parse_tls_mode(*mode, "mailbox-tls");
    if (auto port = p.port("mailbox-port")) {
        c.endpoint.port = *port;
    } else if (!port_given) {
        c.endpoint.port = default_port(c.endpoint.protocol, c.endpoint.tls);
    }
    if (auto user = p.get("mailbox-user")) c.credentials.user = *user;
    if (c.credentials.user.empty()) throw UsageError("--mailbox-user is required");
    if (auto bearer = bearer_credentials(p, Side::mailbox, c.credentials.user, warnings)) {
        c.credentials = *bearer;
    } else {
        auto secret = read_secret(p, "mailbox-password", "MAILPROBE_MAILBOX_PASSWORD", warnings);
        if (!secret) {
            throw UsageError(
                "the mailbox needs a password: --mailbox-password-file FILE or "
                "MAILPROBE_MAILBOX_PASSWORD");
        }
        c.credentials.secret = *secret;
        if (auto mech = p.get("mailbox-auth-mech"))
            c.credentials.mechanism = sasl_mechanism("mailbox-auth-mech", *mech);
    }
    c.folder = p.get_or("folder", c.folder);
    c.junk_folders = p.all("junk-folder");
    if (c.folder.empty()) throw UsageError("--folder: empty folder name");
    // Folder names are UTF-8 here and encoded for the server (modified UTF-7 or UTF-8).
    if (!mailbox::imap::valid_utf8(c.folder)) throw UsageError("--folder: not valid UTF-8");
    for (const auto& junk : c.junk_folders) {
        if (junk.empty()) throw UsageError("--junk-folder: empty folder name");
        if (!mailbox::imap::valid_utf8(junk)) throw UsageError("--junk-folder: not valid UTF-8");
    }
    if (c.endpoint.protocol == curl::Protocol::pop3 &&
        (c.folder != "INBOX" || !c.junk_folders.empty())) {
        throw UsageError("POP3 has no folders: --folder and --junk-folder need IMAP");
    }
    if (auto interval = p.seconds("poll-interval")) c.poll_interval_s = std::max(0.05, *interval);
    c.use_idle = !p.has("no-idle");
    c.scan_limit = p.integer("pop3-scan-limit", 1, 100000).value_or(50);
    return c;
}

}  // namespace mailprobe
