#define BOOST_TEST_MODULE options
#include <sys/stat.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/secrets.hpp"
#include "options/option_set.hpp"
#include "options/standard.hpp"
#include "support.hpp"

using namespace mailprobe;
using namespace mailprobe::test;

namespace {

StandardDefaults defaults() {
    StandardDefaults d;
    d.timeout_s = 30;
    d.warning = "10";
    d.critical = "";
    return d;
}

// An option table like a plugin builds.
OptionSet plugin_options() {
    OptionSet o("check_mailprobe_test", "Test plugin");
    add_standard_options(o, defaults());
    o.section("SMTP options")
        .value("smtp-host", 'H', "HOST", "SMTP server to send the probe to")
        .value("smtp-port", 'p', "PORT", "SMTP port", "25")
        .multi("to", 0, "ADDRESS", "Recipient address")
        .flag("keep", 0, "Do not delete the probe")
        .value("retries", 0, "N", "How often to retry", "2")
        .optional_value("starttls", "MODE", "Use STARTTLS", "required");
    add_secret_options(o, "smtp-password", "MAILPROBE_SMTP_PASSWORD", "SMTP password");
    return o;
}

ParsedOptions parse(std::initializer_list<const char*> args) {
    std::vector<const char*> argv{"check_mailprobe_test"};
    argv.insert(argv.end(), args.begin(), args.end());
    return plugin_options().parse(static_cast<int>(argv.size()), argv.data());
}

// Runs f, which must throw UsageError; returns its message ("" if it did not throw).
template <typename F>
std::string usage_error(F f) {
    return message_of<UsageError>(f);
}

std::string parse_error(std::initializer_list<const char*> args) {
    return usage_error([&] { (void)parse(args); });
}

// A temporary directory for secret files; also clears secrets and the env var.
struct SecretsDir : TempDir {
    SecretsDir() {
        ::unsetenv("MAILPROBE_SMTP_PASSWORD");
        secrets::clear();
    }
    ~SecretsDir() {
        ::unsetenv("MAILPROBE_SMTP_PASSWORD");
        secrets::clear();
    }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(verbosity)

BOOST_AUTO_TEST_CASE(counting) {
    BOOST_TEST(parse({}).verbosity() == 0);
    BOOST_TEST(parse({"-v"}).verbosity() == 1);
    BOOST_TEST(parse({"-vv"}).verbosity() == 2);
    BOOST_TEST(parse({"-vvv"}).verbosity() == 3);
    BOOST_TEST(parse({"-v", "-v"}).verbosity() == 2);
    BOOST_TEST(parse({"--verbose"}).verbosity() == 1);
    BOOST_TEST(parse({"--verbose", "-v", "--verbose"}).verbosity() == 3);
    BOOST_TEST(parse({"-vv", "-H", "mx", "-v"}).verbosity() == 3);
}

BOOST_AUTO_TEST_CASE(capped_at_three) {
    BOOST_TEST(parse({"-vvvv"}).verbosity() == 3);
    BOOST_TEST(parse({"-vvv", "-vvv", "--verbose"}).verbosity() == 3);
}

BOOST_AUTO_TEST_CASE(v_as_option_value_is_not_verbosity) {
    // "-v" after an option that takes a value is still counted; but a value that merely
    // contains v's must not be.
    auto p = parse({"-H", "vvv.example"});
    BOOST_TEST(p.verbosity() == 0);
    BOOST_TEST(p.get("smtp-host").value() == "vvv.example");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(syntax)

BOOST_AUTO_TEST_CASE(values_flags_and_multi) {
    auto p = parse({"-H", "mx.example.org", "--smtp-port=587", "--to", "a@x", "--to", "b@y",
                    "--keep", "--smtp-password", "pw"});
    BOOST_TEST(p.get("smtp-host").value() == "mx.example.org");
    BOOST_TEST(p.port("smtp-port").value() == 587);
    BOOST_TEST(p.all("to") == (std::vector<std::string>{"a@x", "b@y"}));
    BOOST_TEST(p.has("keep"));
    BOOST_TEST(p.has("smtp-host"));
    BOOST_TEST(!p.has("retries"));
    BOOST_TEST(!p.get("retries").has_value());
    BOOST_TEST(p.get_or("retries", "7") == "7");
    BOOST_TEST(p.all("smtp-host").empty());
}

BOOST_AUTO_TEST_CASE(absent_flag_is_false) {
    auto p = parse({});
    BOOST_TEST(!p.has("keep"));
    BOOST_TEST(!p.has("help"));
    BOOST_TEST(p.all("to").empty());
    BOOST_TEST(!p.get("smtp-host").has_value());
}

BOOST_AUTO_TEST_CASE(optional_value) {
    BOOST_TEST(parse({"--starttls"}).get("starttls").value() == "required");
    BOOST_TEST(parse({"--starttls=optional"}).get("starttls").value() == "optional");
    BOOST_TEST(!parse({}).get("starttls").has_value());
}

BOOST_AUTO_TEST_CASE(unknown_option_named) {
    BOOST_TEST(contains(parse_error({"--bogus"}), "bogus"));
    BOOST_TEST(contains(parse_error({"-H", "mx", "--frobnicate", "1"}), "frobnicate"));
    BOOST_TEST(contains(parse_error({"-Z"}), "Z"));
}

BOOST_AUTO_TEST_CASE(missing_value) {
    std::string msg = parse_error({"--smtp-host"});
    BOOST_TEST(contains(msg, "smtp-host"), msg);
    msg = parse_error({"-w"});
    BOOST_TEST(contains(msg, "warning"), msg);
}

BOOST_AUTO_TEST_CASE(repeated_single_option) {
    std::string msg = parse_error({"-H", "a", "-H", "b"});
    BOOST_TEST(contains(msg, "smtp-host"), msg);
    msg = parse_error({"--timeout", "5", "-t", "6"});
    BOOST_TEST(contains(msg, "timeout"), msg);
}

BOOST_AUTO_TEST_CASE(no_prefix_guessing) {
    BOOST_TEST(contains(parse_error({"--verb"}), "verb"));
    BOOST_TEST(contains(parse_error({"--time", "5"}), "time"));
    BOOST_TEST(contains(parse_error({"--smtp-h", "mx"}), "smtp-h"));
    BOOST_TEST(contains(parse_error({"--ke"}), "ke"));
}

BOOST_AUTO_TEST_CASE(empty_argument_ignored) {
    // Zabbix external checks pass an empty macro as ''; an empty option value stays a value.
    auto p = parse({"", "-H", "mx", "", "--to", "a@x", ""});
    BOOST_TEST(p.get("smtp-host").value() == "mx");
    auto q = parse({"--to", "", "-H", "mx"});
    BOOST_TEST(q.get("smtp-host").value() == "mx");
    BOOST_TEST(q.all("to") == std::vector<std::string>{""});
}

BOOST_AUTO_TEST_CASE(stray_positional_argument_rejected) {
    // A word that belongs to no option is a mistake (e.g. a second address after one --to);
    // silently dropping it would check something other than what the user asked for.
    (void)parse_error({"mx.example.org"});
    (void)parse_error({"--to", "a@x", "b@y"});
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(typed_getters)

BOOST_AUTO_TEST_CASE(seconds_valid) {
    BOOST_TEST(parse({"-t", "2.5"}).seconds("timeout").value() == 2.5);
    BOOST_TEST(parse({"--timeout", "86400"}).seconds("timeout").value() == 86400.0);
    BOOST_TEST(!parse({}).seconds("timeout").has_value());
}

BOOST_AUTO_TEST_CASE(seconds_invalid) {
    for (const char* bad : {"abc", "0", "-1", "86401", "1,5", "inf", "nan", "5s", ""}) {
        auto p = parse({"--timeout", bad});
        std::string msg = usage_error([&] { (void)p.seconds("timeout"); });
        BOOST_TEST(contains(msg, "--timeout"), msg);
        BOOST_TEST(contains(msg, "'" + std::string(bad) + "'"), msg);
    }
}

BOOST_AUTO_TEST_CASE(number_error_message) {
    auto p = parse({"--timeout", "abc"});
    BOOST_TEST(usage_error([&] { (void)p.number("timeout"); }) ==
               "--timeout: 'abc' is not a number");
}

BOOST_AUTO_TEST_CASE(port_range) {
    BOOST_TEST(parse({"-p", "1"}).port("smtp-port").value() == 1);
    BOOST_TEST(parse({"-p", "65535"}).port("smtp-port").value() == 65535);
    BOOST_TEST(!parse({}).port("smtp-port").has_value());
    for (const char* bad : {"0", "70000", "65536", "1.5", "-25", "abc", "25x"}) {
        auto p = parse({"-p", bad});
        std::string msg = usage_error([&] { (void)p.port("smtp-port"); });
        BOOST_TEST(contains(msg, "--smtp-port"), msg);
        BOOST_TEST(contains(msg, std::string("'") + bad + "'"), msg);
    }
}

BOOST_AUTO_TEST_CASE(integer_bounds) {
    BOOST_TEST(parse({"--retries", "0"}).integer("retries", 0, 5).value() == 0);
    BOOST_TEST(parse({"--retries", "5"}).integer("retries", 0, 5).value() == 5);
    auto p = parse({"--retries", "6"});
    std::string msg = usage_error([&] { (void)p.integer("retries", 0, 5); });
    BOOST_TEST(contains(msg, "0 to 5"), msg);
    auto huge = parse({"--retries", "1e300"});
    (void)usage_error([&] { (void)huge.integer("retries", 0, 5); });
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(standard)

BOOST_AUTO_TEST_CASE(defaults_applied) {
    auto c = standard_config(parse({}), defaults());
    BOOST_TEST(c.timeout_s == 30.0);
    BOOST_TEST_REQUIRE(c.thresholds.warning.has_value());
    BOOST_TEST(c.thresholds.warning->text() == "10");
    BOOST_TEST(!c.thresholds.critical.has_value());
}

BOOST_AUTO_TEST_CASE(ranges_parsed) {
    auto c = standard_config(parse({"-w", "5:", "-c", "@1:2", "-t", "7", "-vv"}), defaults());
    BOOST_TEST(c.timeout_s == 7.0);

    BOOST_TEST_REQUIRE(c.thresholds.warning.has_value());
    BOOST_TEST_REQUIRE(c.thresholds.critical.has_value());
    BOOST_TEST(c.thresholds.warning->text() == "5:");
    BOOST_TEST(c.thresholds.critical->text() == "@1:2");
    BOOST_TEST(c.thresholds.evaluate(1.5) == Status::critical);
    BOOST_TEST(c.thresholds.evaluate(4) == Status::warning);
    BOOST_TEST(c.thresholds.evaluate(6) == Status::ok);
}

BOOST_AUTO_TEST_CASE(bad_ranges_rejected) {
    for (const char* bad : {"abc", "5:3", "1:2:3", "10:x"}) {
        auto w = parse({"-w", bad});
        std::string msg = usage_error([&] { (void)standard_config(w, defaults()); });
        BOOST_TEST(contains(msg, bad), msg);
        auto c = parse({"--critical", bad});
        msg = usage_error([&] { (void)standard_config(c, defaults()); });
        BOOST_TEST(contains(msg, bad), msg);
    }
}

BOOST_AUTO_TEST_CASE(bad_timeout_rejected) {
    (void)usage_error([] { (void)standard_config(parse({"--timeout", "abc"}), defaults()); });
    (void)usage_error([] { (void)standard_config(parse({"--timeout", "0"}), defaults()); });
}

BOOST_AUTO_TEST_CASE(output_format) {
    BOOST_TEST((parse_output_format(parse({"--output", "json"})) == OutputFormat::json));
    BOOST_TEST((parse_output_format(parse({"--output", "nagios"})) == OutputFormat::nagios));
    BOOST_TEST((parse_output_format(parse({})) == OutputFormat::nagios));
    std::string msg = usage_error([] { (void)parse_output_format(parse({"--output", "xml"})); });
    BOOST_TEST(contains(msg, "'xml'"), msg);
    msg = usage_error([] { (void)parse_output_format(parse({"--output", "JSON"})); });
    BOOST_TEST(contains(msg, "'JSON'"), msg);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(secret_input)

BOOST_AUTO_TEST_CASE(file_beats_inline_beats_env) {
    SecretsDir dir;
    std::string file = dir.write("pw", "from-file\n", 0600);
    ::setenv("MAILPROBE_SMTP_PASSWORD", "from-env", 1);
    std::vector<std::string> warnings;
    auto all = parse({"--smtp-password-file", file.c_str(), "--smtp-password", "from-inline"});
    BOOST_TEST(read_secret(all, "smtp-password", "MAILPROBE_SMTP_PASSWORD", warnings).value() ==
               "from-file");
    auto inline_env = parse({"--smtp-password", "from-inline"});
    BOOST_TEST(
        read_secret(inline_env, "smtp-password", "MAILPROBE_SMTP_PASSWORD", warnings).value() ==
        "from-inline");
    auto env_only = parse({});
    BOOST_TEST(
        read_secret(env_only, "smtp-password", "MAILPROBE_SMTP_PASSWORD", warnings).value() ==
        "from-env");
    ::unsetenv("MAILPROBE_SMTP_PASSWORD");
    BOOST_TEST(
        !read_secret(env_only, "smtp-password", "MAILPROBE_SMTP_PASSWORD", warnings).has_value());
    ::setenv("MAILPROBE_SMTP_PASSWORD", "", 1);
    BOOST_TEST(
        !read_secret(env_only, "smtp-password", "MAILPROBE_SMTP_PASSWORD", warnings).has_value());
    BOOST_TEST(warnings.empty());
}

BOOST_AUTO_TEST_CASE(secret_registered_for_scrubbing) {
    SecretsDir dir;
    std::vector<std::string> warnings;
    auto p = parse({"--smtp-password", "inline-s3cret"});
    (void)read_secret(p, "smtp-password", "MAILPROBE_SMTP_PASSWORD", warnings);
    BOOST_TEST(secrets::scrub("pw inline-s3cret") == "pw ********");
}

// The file itself is read by state::read_named_secret() (tests/unit/test_secret_file.cpp);
// these cases show that a password file goes through it.
namespace {
std::optional<std::string> password_from_file(const std::string& path,
                                              std::vector<std::string>& warnings) {
    auto p = parse({"--smtp-password-file", path.c_str()});
    return read_secret(p, "smtp-password", "MAILPROBE_SMTP_PASSWORD", warnings);
}
}  // namespace

BOOST_AUTO_TEST_CASE(password_file_line_end_stripped) {
    SecretsDir dir;
    std::vector<std::string> warnings;
    BOOST_TEST(password_from_file(dir.write("crlf", "s3cret\r\n", 0600), warnings).value() ==
               "s3cret");
    BOOST_TEST(warnings.empty());
    std::string empty = dir.write("empty", "\n", 0600);
    std::string msg = usage_error([&] { (void)password_from_file(empty, warnings); });
    BOOST_TEST(msg == "secret file " + empty + " is empty");
}

BOOST_AUTO_TEST_CASE(missing_file_named) {
    SecretsDir dir;
    std::vector<std::string> warnings;
    std::string missing = dir.sub("does-not-exist");
    auto p = parse({"--smtp-password-file", missing.c_str(), "--smtp-password", "x"});
    std::string msg = usage_error(
        [&] { (void)read_secret(p, "smtp-password", "MAILPROBE_SMTP_PASSWORD", warnings); });
    BOOST_TEST(msg == "cannot read secret file " + missing + ": No such file or directory");
}

BOOST_AUTO_TEST_CASE(loose_permissions_noted) {
    SecretsDir dir;
    std::vector<std::string> warnings;
    std::string loose = dir.write("loose", "pw\n", 0644);
    BOOST_TEST(password_from_file(loose, warnings).value() == "pw");
    BOOST_TEST_REQUIRE(warnings.size() == 1u);
    BOOST_TEST(warnings[0] ==
               "secret file " + loose + " is readable by group or others (chmod 600)");
    warnings.clear();
    (void)password_from_file(dir.write("tight", "pw\n", 0600), warnings);
    BOOST_TEST(warnings.empty());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_CASE(help_lists_every_option) {
    OptionSet o = plugin_options();
    // --help wraps long texts: fold the continuation lines back before searching.
    std::string help;
    std::string raw = o.help_text();
    for (std::size_t i = 0; i < raw.size(); ++i) {
        if (raw[i] == '\n' && raw.compare(i + 1, 10, "          ") == 0) {
            help += ' ';
            i += 10;
        } else {
            help += raw[i];
        }
    }
    BOOST_TEST(contains(help, "check_mailprobe_test"));
    BOOST_TEST(contains(help, "Test plugin"));
    BOOST_TEST(!o.specs().empty());
    for (const auto& spec : o.specs()) {
        BOOST_TEST(contains(help, "--" + spec.long_name), spec.long_name);
        BOOST_TEST(contains(help, spec.help), spec.long_name);
        if (spec.short_name) {
            BOOST_TEST(contains(help, std::string("-") + spec.short_name + ", --" + spec.long_name),
                       spec.long_name);
        }
        if (!spec.default_text.empty()) {
            BOOST_TEST(contains(help, spec.help + " (default: " + spec.default_text + ")"),
                       spec.long_name);
        }
    }
    BOOST_TEST(contains(help, "(default: 30)"));      // timeout
    BOOST_TEST(contains(help, "(default: nagios)"));  // output
    BOOST_TEST(contains(help, "(default: 25)"));      // smtp-port
    BOOST_TEST(contains(help, "(repeatable)"));       // --to
    BOOST_TEST(contains(help, "General options:"));
    BOOST_TEST(contains(help, "SMTP options:"));
    BOOST_TEST(contains(o.usage_line(), "check_mailprobe_test"));
}
