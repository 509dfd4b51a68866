// What the option layer refuses before anything reaches a server (issue 11): CR, LF and NUL
// in any value (require_one_line, applied by OptionSet::parse and read_secret), EHLO names,
// recipient lists, empty folders, --mailbox URL ports, integer ranges. Plugin-level runs of
// the same table: tests/integration/test_option_injection.py.
#define BOOST_TEST_MODULE option_validation
#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/secrets.hpp"
#include "options/mailbox_options.hpp"
#include "options/option_set.hpp"
#include "options/smtp_options.hpp"
#include "options/standard.hpp"

using namespace mailprobe;

namespace {

OptionSet plugin_options() {
    OptionSet o("check_validation_test", "Test plugin");
    add_standard_options(o, StandardDefaults{});
    add_tls_trust_options(o);
    add_smtp_options(o);
    add_mailbox_options(o);
    return o;
}

ParsedOptions parse(const std::vector<std::string>& args) {
    std::vector<const char*> argv{"check_validation_test"};
    for (const auto& a : args) argv.push_back(a.c_str());
    return plugin_options().parse(static_cast<int>(argv.size()), argv.data());
}

template <typename F>
std::string usage_error(F f) {
    try {
        f();
    } catch (const UsageError& e) {
        return e.what();
    } catch (const std::exception& e) {
        BOOST_ERROR("threw a non-UsageError: " << e.what());
        return "";
    }
    BOOST_ERROR("did not throw");
    return "";
}

bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

const std::vector<std::string> base = {
    "--to",  "probe@example.org", "--mailbox-host", "imap.test", "--mailbox-user",
    "probe", "--smtp-host",       "mx.test"};

// Builds both configs, as a plugin does.
void configure(std::vector<std::string> args) {
    args.insert(args.begin(), base.begin(), base.end());
    std::vector<std::string> warnings;
    auto p = parse(args);
    (void)smtp_options_from(p, warnings);
    (void)mailbox_config_from(p, curl::TlsOptions{}, warnings);
}

struct EnvGuard {
    ~EnvGuard() {
        ::unsetenv("MAILPROBE_MAILBOX_PASSWORD");
        ::unsetenv("MAILPROBE_SMTP_PASSWORD");
        secrets::clear();
    }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(line_breaks)

BOOST_AUTO_TEST_CASE(validator_itself) {
    require_one_line("--folder", "INBOX");
    require_one_line("--folder", "Ünïcode Test\t[x]");
    for (std::string bad : {std::string("a\rb"), std::string("a\nb"), std::string("a\r\nb"),
                            std::string("a\0b", 3), std::string("\n")}) {
        std::string msg = usage_error([&] { require_one_line("--folder", bad); });
        BOOST_TEST(msg ==
                   "--folder: the value contains a line break or NUL byte (CR, LF and NUL are "
                   "never sent to a server)");
    }
}

BOOST_AUTO_TEST_CASE(every_option_value_checked_at_parse_never_echoed) {
    EnvGuard env;
    const OptionSet options = plugin_options();
    for (const auto& spec : options.specs()) {
        if (spec.value_name.empty()) continue;  // a flag takes no value
        for (const char* brk : {"\r", "\n", "\r\n"}) {
            std::string value = std::string("x") + brk + "X1 DELETE Victim";
            std::string msg =
                usage_error([&] { (void)parse({"--" + spec.long_name + "=" + value}); });
            BOOST_TEST(contains(msg, "--" + spec.long_name + ": the value contains a line break"),
                       spec.long_name << ": " << msg);
            BOOST_TEST(!contains(msg, "Victim"), msg);
        }
    }
}

BOOST_AUTO_TEST_CASE(secrets_from_environment_and_option) {
    EnvGuard env;
    ::setenv("MAILPROBE_MAILBOX_PASSWORD", "pw\r\nX1 DELETE Victim", 1);
    std::string msg = usage_error([] { configure({}); });
    BOOST_TEST(contains(msg, "MAILPROBE_MAILBOX_PASSWORD: the value contains a line break"), msg);
    BOOST_TEST(!contains(msg, "Victim"), msg);
    ::setenv("MAILPROBE_MAILBOX_PASSWORD", "good", 1);
    ::setenv("MAILPROBE_SMTP_PASSWORD", "pw\nRSET", 1);
    msg = usage_error([] { configure({"--smtp-user", "probe"}); });
    BOOST_TEST(contains(msg, "MAILPROBE_SMTP_PASSWORD: the value contains a line break"), msg);
    ::setenv("MAILPROBE_SMTP_PASSWORD", std::string(64 * 1024 + 1, 'x').c_str(), 1);
    msg = usage_error([] { configure({"--smtp-user", "probe"}); });
    BOOST_TEST(contains(msg, "MAILPROBE_SMTP_PASSWORD: the value is too large (over 64 KiB)"), msg);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(values_a_server_would_misread)

BOOST_AUTO_TEST_CASE(helo_must_be_a_name_or_address_literal) {
    EnvGuard env;
    ::setenv("MAILPROBE_MAILBOX_PASSWORD", "good", 1);
    for (const char* good :
         {"probe.example.org", "probe", "mx-1.example.org.", "[192.0.2.1]", "[IPv6:2001:db8::1]"}) {
        configure({"--helo", good});
    }
    for (const char* bad : {"two words", "tab\there", "a/b", "", "[unclosed", "x..y"}) {
        std::string msg = usage_error([&] { configure({"--helo", bad}); });
        BOOST_TEST(contains(msg, "--helo: '"), msg);
        BOOST_TEST(contains(msg, "is not a host name or address literal"), msg);
    }
}

BOOST_AUTO_TEST_CASE(to_list_is_several_recipients) {
    std::vector<std::string> warnings;
    auto p = parse({"--to", "a@example.org, b@example.org", "--to", "c@example.org"});
    auto s = smtp_options_from(p, warnings);
    BOOST_TEST(s.envelope.to ==
                   (std::vector<std::string>{"a@example.org", "b@example.org", "c@example.org"}),
               boost::test_tools::per_element());
    BOOST_TEST(s.envelope.from == "a@example.org");
    for (const char* bad : {"a@example.org,", ",a@example.org", "a@example.org,,b@example.org",
                            "a@example.org,b", "a b@example.org"}) {
        std::string msg = usage_error([&] {
            (void)smtp_options_from(parse({"--to", bad}), warnings);
        });
        BOOST_TEST(contains(msg, "--to: "), msg);
    }
}

BOOST_AUTO_TEST_CASE(return_path_is_a_plain_address_with_room_for_verp) {
    std::vector<std::string> warnings;
    const std::string id(32, 'a');
    auto s = smtp_options_from(parse({"--to", "probe@example.org"}), warnings);
    BOOST_TEST(probe_envelope(s, id).from == "probe@example.org");  // default: --from
    s = smtp_options_from(parse({"--to", "a@example.org", "--from", "b@example.org",
                                 "--return-path", "bounce+mon@example.org"}),
                          warnings);
    BOOST_TEST(probe_envelope(s, id).from == "bounce+mon@example.org");
    s = smtp_options_from(parse({"--to", "a@example.org", "--return-path-verp"}), warnings);
    BOOST_TEST(probe_envelope(s, id).from == "a+" + id + "@example.org");
    BOOST_TEST(s.envelope.from == "a@example.org");  // the header From stays
    for (const char* bad :
         {"", "nobody", "@example.org", "a@", "a b@example.org", "<a@example.org>",
          "a@b@example.org", "a@example.org>RCPT", "a@-example.org", "a@example..org\x7f"}) {
        std::string msg = usage_error([&] {
            (void)smtp_options_from(parse({"--to", "probe@example.org", "--return-path", bad}),
                                    warnings);
        });
        BOOST_TEST(contains(msg, "--return-path: '"), msg);
        BOOST_TEST(contains(msg, "is not a mail address"), msg);
    }
    std::string msg = usage_error([&] {
        (void)smtp_options_from(parse({"--to", "probe@example.org", "--return-path-verp",
                                       "--return-path", std::string(40, 'x') + "@example.org"}),
                                warnings);
    });
    BOOST_TEST(contains(msg, "leaves no room for +<probe id>"), msg);
}

BOOST_AUTO_TEST_CASE(empty_folders_refused) {
    EnvGuard env;
    ::setenv("MAILPROBE_MAILBOX_PASSWORD", "good", 1);
    BOOST_TEST(usage_error([] { configure({"--folder", ""}); }) == "--folder: empty folder name");
    BOOST_TEST(usage_error([] {
                   configure({"--junk-folder", ""});
               }) == "--junk-folder: empty folder name");
}

BOOST_AUTO_TEST_CASE(auth_mech_needs_a_user) {
    std::vector<std::string> warnings;
    BOOST_TEST(usage_error([&] {
                   (void)smtp_options_from(
                       parse({"--to", "a@example.org", "--smtp-auth-mech", "PLAIN"}), warnings);
               }) == "--smtp-auth-mech needs --smtp-user");
}

BOOST_AUTO_TEST_CASE(auth_mechanism_upper_cased_or_refused) {
    BOOST_TEST(sasl_mechanism("smtp-auth-mech", "login") == "LOGIN");
    BOOST_TEST(sasl_mechanism("mailbox-auth-mech", "Cram-MD5") == "CRAM-MD5");
    std::string msg = usage_error([] { (void)sasl_mechanism("smtp-auth-mech", "SCRAM-SHA-256"); });
    BOOST_TEST(contains(msg, "--smtp-auth-mech: 'SCRAM-SHA-256' is not a SASL mechanism"), msg);
    BOOST_TEST(contains(msg, "PLAIN, LOGIN"), msg);
}

BOOST_AUTO_TEST_CASE(mailbox_url_port_range) {
    mailbox::MailboxConfig c;
    bool tls = false, port = false;
    apply_mailbox_url("imap://u@h:65535/INBOX", c, tls, port);
    BOOST_TEST(c.endpoint.port == 65535);
    for (const char* bad : {"imap://u@h:0/INBOX", "imap://u@h:65536", "pop3://u@h:99999"}) {
        std::string msg = usage_error([&] { apply_mailbox_url(bad, c, tls, port); });
        BOOST_TEST(msg.starts_with("--mailbox: port '"), msg);
        BOOST_TEST(contains(msg, "must be a whole number from 1 to 65535"), msg);
    }
    // Not a whole number (or six digits): the URL itself is refused, naming the option.
    for (const char* bad :
         {"imap://u@h:1.5/INBOX", "imap://u@h:14x3", "imap://u@h:-1", "imap://u@h:100000"}) {
        std::string msg = usage_error([&] { apply_mailbox_url(bad, c, tls, port); });
        BOOST_TEST(msg.starts_with("--mailbox: '"), msg);
    }
}

BOOST_AUTO_TEST_CASE(mailbox_port_option_has_the_same_range) {
    EnvGuard env;
    ::setenv("MAILPROBE_MAILBOX_PASSWORD", "pw", 1);
    for (const char* bad : {"0", "65536", "1.5"}) {
        std::string msg = usage_error([&] { configure({"--mailbox-port", bad}); });
        BOOST_TEST(msg == std::string("--mailbox-port: '") + bad +
                              "' must be a whole number from 1 to 65535",
                   msg);
    }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(numbers)

BOOST_AUTO_TEST_CASE(integer_out_of_int_range_is_a_usage_error) {
    // Converting 1e30 to an integer first was undefined behaviour (UBSan reports it).
    for (const char* bad : {"1e30", "-1e30", "1e300", "2147483648", "0.5"}) {
        auto p = parse({"--retry-deferred", bad});
        std::string msg = usage_error([&] { (void)p.integer("retry-deferred", 0, 100); });
        BOOST_TEST(contains(msg, "must be a whole number from 0 to 100"), msg);
    }
    BOOST_TEST(parse({"--retry-deferred", "1e2"}).integer("retry-deferred", 0, 100).value() == 100);
}

BOOST_AUTO_TEST_CASE(timeout_zero_names_the_real_range) {
    std::string msg = usage_error([] {
        (void)standard_config(parse({"-t", "0"}), StandardDefaults{});
    });
    BOOST_TEST(msg == "--timeout: '0' is out of range: give more than 0 and at most 86400 seconds");
}

BOOST_AUTO_TEST_SUITE_END()
