// The plugins' option tables (checks/plugins.hpp): the aliases monitoring-plugins users
// type, a --help that scans, and the --wait default stated once.
#define BOOST_TEST_MODULE plugins
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "checks/mail_send.hpp"
#include "checks/plugins.hpp"
#include "checks/roundtrip.hpp"
#include "core/error.hpp"

using namespace mailprobe;
using namespace mailprobe::checks;
namespace fs = std::filesystem;

namespace {

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::size_t start = 0;
    for (auto end = text.find('\n'); end != std::string::npos; end = text.find('\n', start)) {
        out.push_back(text.substr(start, end - start));
        start = end + 1;
    }
    return out;
}

// A key file, so that building a config never touches a state directory.
struct KeyFile {
    fs::path path = fs::temp_directory_path() / ("mp-unit-key-" + std::to_string(::getpid()));
    KeyFile() { std::ofstream(path) << "00112233445566778899aabbccddeeff\n"; }
    ~KeyFile() { fs::remove(path); }
};

ParsedOptions parse(const PluginEntry& plugin, std::vector<std::string> args) {
    std::vector<const char*> argv{"plugin"};
    for (const auto& a : args) argv.push_back(a.c_str());
    return plugin.spec.options.parse(static_cast<int>(argv.size()), argv.data());
}

const std::vector<std::string> smtp_args = {"--to", "probe@example.org"};

}  // namespace

BOOST_AUTO_TEST_CASE(help_names_and_texts_have_their_own_columns) {
    for (const auto& plugin : all_plugins()) {
        BOOST_TEST_CONTEXT(plugin.spec.options.program()) {
            int names = 0;
            for (const auto& line : lines_of(plugin.spec.options.help_text())) {
                if (line.starts_with("  -") && line.size() > 6 && line[3] != '-') {
                    ++names;  // "  -t, --timeout SECONDS"
                    BOOST_TEST(line.substr(4, 4) == ", --", line);
                } else if (line.starts_with("      --")) {
                    ++names;  // long-only: the "--" under the short options' "--"
                } else if (line.starts_with(" ")) {
                    BOOST_TEST(line.starts_with("          "), line);  // help text, column 10
                    BOOST_TEST(line[10] != ' ', line);
                }
            }
            BOOST_TEST(names == static_cast<int>(plugin.spec.options.specs().size()));
        }
    }
}

BOOST_AUTO_TEST_CASE(monitoring_plugins_aliases_are_listed_and_parsed) {
    auto send = mail_send_plugin();
    std::string help = send.spec.options.help_text();
    BOOST_TEST(help.find("  -H, --smtp-host, --hostname HOST\n") != std::string::npos);
    BOOST_TEST(help.find("  -S, --starttls\n") != std::string::npos);
    BOOST_TEST(help.find("  -D, --cert-days WARN[,CRIT]\n") != std::string::npos);

    KeyFile key;
    std::vector<std::string> base = smtp_args;
    base.insert(base.end(), {"--probe-secret-file", key.path.string()});
    auto with = [&](std::vector<std::string> extra) {
        extra.insert(extra.begin(), base.begin(), base.end());
        return MailSendConfig::from(parse(send, extra));
    };
    auto c = with({"--hostname", "mx.example.org", "-S", "-D", "20,5"});
    BOOST_TEST(c.smtp.server.endpoint.host == "mx.example.org");
    BOOST_TEST(c.smtp.host_given);
    BOOST_TEST((c.smtp.server.endpoint.tls == curl::TlsMode::starttls));
    BOOST_TEST(c.smtp.server.endpoint.port == 25);
    BOOST_TEST(c.smtp.server.tls.cert_days.has_value());
    BOOST_TEST((with({"-H", "a.example", "--starttls", "--smtp-tls", "starttls"})
                    .smtp.server.endpoint.tls == curl::TlsMode::starttls));
    BOOST_CHECK_THROW(with({"-S", "--smtp-tls", "tls"}), UsageError);
    BOOST_CHECK_THROW(with({"-H", "a.example", "--hostname", "b.example"}), UsageError);
}

BOOST_AUTO_TEST_CASE(wait_default_is_stated_once) {
    auto rt = roundtrip_plugin();
    const OptionSpec* wait = nullptr;
    for (const auto& s : rt.spec.options.specs())
        if (s.long_name == "wait") wait = &s;
    BOOST_REQUIRE(wait);
    BOOST_TEST(wait->default_text == "35, or 70% of --timeout if that is less");

    KeyFile key;
    std::vector<std::string> args = smtp_args;
    args.insert(args.end(), {"--mailbox", "imap://probe@127.0.0.1", "--mailbox-password", "x",
                             "--probe-secret-file", key.path.string()});
    auto with = [&](std::vector<std::string> extra) {
        extra.insert(extra.begin(), args.begin(), args.end());
        return RoundTripConfig::from(parse(rt, extra));
    };
    RoundTripConfig defaults;
    BOOST_TEST(defaults.wait_s == RoundTripConfig::default_wait_s);
    BOOST_TEST(with({}).wait_s == 35);  // default -t 50: 70% is 35
    BOOST_TEST(with({"-t", "100"}).wait_s == 35);
    BOOST_TEST(with({"-t", "20"}).wait_s == 14);
    BOOST_TEST(with({"-t", "20", "--wait", "19"}).wait_s == 19);
    BOOST_CHECK_THROW(with({"-t", "20", "--wait", "20"}), UsageError);
}
