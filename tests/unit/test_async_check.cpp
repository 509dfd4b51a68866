// --async (checks/async_check.hpp), the parts reachable without a mailbox: when a collected
// probe reached its final MTA (arrival_ms), and the asynchronous options. The judging of
// outstanding probes is inside run_async (not a function of its own yet) and is covered end
// to end by the integration tests.
#define BOOST_TEST_MODULE async_check
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "checks/async_check.hpp"
#include "checks/plugins.hpp"
#include "checks/roundtrip.hpp"
#include "support.hpp"

using namespace mailprobe;
using namespace mailprobe::checks;
namespace fs = std::filesystem;

namespace {

std::string show(const std::optional<std::int64_t>& v) {
    return v ? std::to_string(*v) : "nullopt";
}

}  // namespace

BOOST_AUTO_TEST_CASE(arrival_is_the_topmost_dated_received_field) {
    struct Case {
        std::string what;
        std::string header;
        std::optional<std::int64_t> expected;
    };
    const std::string relay =
        "Received: from client.example.org (client.example.org [192.0.2.1])"
        "\r\n\tby relay.example.org with ESMTPS id 1A; "
        "Fri, 27 Nov 2026 17:32:05 +0000\r\n";
    const std::vector<Case> cases = {
        {"one hop", relay + "Subject: x\r\n", 1795800725000},
        {"the last hop wins",
         "Received: from relay.example.org by mx.example.org with ESMTP id 2B; "
         "Fri, 27 Nov 2026 17:32:07 +0000\r\n" +
             relay,
         1795800727000},
        {"zones count",
         "Received: from relay.example.org by mx.example.org; Fri, 27 Nov 2026 18:32:05 +0100\r\n",
         1795800725000},
        {"an undated top field is skipped",
         "Received: from relay.example.org by mx.example.org with LMTP\r\n" + relay, 1795800725000},
        {"no Received field", "Subject: x\r\nFrom: probe@example.org\r\n", std::nullopt},
        {"only undated fields", "Received: by mx.example.org\r\n", std::nullopt},
        {"empty header", "", std::nullopt},
    };
    for (const auto& c : cases) {
        BOOST_TEST(show(arrival_ms(c.header)) == show(c.expected), c.what);
    }
}

namespace {

struct KeyFile {
    fs::path path = fs::temp_directory_path() / ("mp-unit-askey-" + std::to_string(::getpid()));
    KeyFile() { std::ofstream(path) << "00112233445566778899aabbccddeeff\n"; }
    ~KeyFile() { fs::remove(path); }
};

AsyncOptions async_of(std::vector<std::string> extra) {
    KeyFile key;
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
    auto plugin = roundtrip_plugin();
    return RoundTripConfig::from(
               plugin.spec.options.parse(static_cast<int>(argv.size()), argv.data()))
        .async;
}

}  // namespace

BOOST_AUTO_TEST_CASE(async_options_default_to_off_and_an_hour_to_give_up) {
    auto a = async_of({});
    BOOST_TEST(!a.enabled);
    BOOST_TEST(a.give_up_s == 3600);
    BOOST_TEST(!a.state_dir.has_value());
    BOOST_TEST(!a.wait_given);
}

BOOST_AUTO_TEST_CASE(async_options_are_read_as_given) {
    mailprobe::test::TempDir dir;
    auto a = async_of({"--async", "--give-up", "600", "--state-dir", dir.path, "--wait", "5"});
    BOOST_TEST(a.enabled);
    BOOST_TEST(a.give_up_s == 600);
    BOOST_TEST(a.state_dir.value_or("") == dir.path);
    BOOST_TEST(a.wait_given);  // hybrid: also wait for the fresh probe
}
