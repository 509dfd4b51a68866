// curl::Protocol (common/curl/protocol.hpp): text becomes the enum once, where the options
// are parsed (--mailbox-protocol, the scheme of a --mailbox URL); messages name it by one
// function.
#define BOOST_TEST_MODULE protocol
#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/secrets.hpp"
#include "curl/protocol.hpp"
#include "options/mailbox_options.hpp"
#include "options/option_set.hpp"
#include "options/standard.hpp"

using namespace mailprobe;
using curl::Protocol;

namespace {

mailbox::MailboxConfig mailbox_config(std::vector<std::string> args) {
    OptionSet o("check_protocol_test", "Test plugin");
    add_standard_options(o, StandardDefaults{});
    add_mailbox_options(o);
    args.insert(args.begin(), {"--mailbox-user", "probe", "--mailbox-password", "pw"});
    std::vector<const char*> argv{"check_protocol_test"};
    for (const auto& a : args) argv.push_back(a.c_str());
    auto parsed = o.parse(static_cast<int>(argv.size()), argv.data());
    std::vector<std::string> warnings;
    auto config = mailbox_config_from(parsed, curl::TlsOptions{}, warnings);
    secrets::clear();
    return config;
}

}  // namespace

BOOST_AUTO_TEST_CASE(names_and_url_schemes) {
    BOOST_TEST(curl::protocol_name(Protocol::smtp) == "SMTP");
    BOOST_TEST(curl::protocol_name(Protocol::imap) == "IMAP");
    BOOST_TEST(curl::protocol_name(Protocol::pop3) == "POP3");
    BOOST_TEST(curl::url_scheme(Protocol::smtp) == "smtp");
    BOOST_TEST(curl::url_scheme(Protocol::imap) == "imap");
    BOOST_TEST(curl::url_scheme(Protocol::pop3) == "pop3");
}

BOOST_AUTO_TEST_CASE(mailbox_protocols_parsed_exactly) {
    BOOST_TEST((curl::parse_mailbox_protocol("imap") == Protocol::imap));
    BOOST_TEST((curl::parse_mailbox_protocol("pop3") == Protocol::pop3));
    for (const char* text : {"smtp", "IMAP", "pop", "imaps", "", "imap "}) {
        BOOST_TEST(!curl::parse_mailbox_protocol(text).has_value(), text);
    }
}

BOOST_AUTO_TEST_CASE(mailbox_protocol_option_becomes_the_enum) {
    auto imap = mailbox_config({"--mailbox-host", "mail.test"});
    BOOST_TEST((imap.endpoint.protocol == Protocol::imap));  // the default
    BOOST_TEST(imap.endpoint.port == 143);
    auto pop = mailbox_config({"--mailbox-host", "mail.test", "--mailbox-protocol", "pop3"});
    BOOST_TEST((pop.endpoint.protocol == Protocol::pop3));
    BOOST_TEST(pop.endpoint.port == 110);
    BOOST_TEST(pop.display() == "probe on mail.test:110 (POP3)");
    try {
        mailbox_config({"--mailbox-host", "mail.test", "--mailbox-protocol", "smtp"});
        BOOST_ERROR("smtp accepted as a mailbox protocol");
    } catch (const UsageError& e) {
        BOOST_TEST(std::string(e.what()) == "--mailbox-protocol: 'smtp' is not imap or pop3");
    }
}

BOOST_AUTO_TEST_CASE(mailbox_url_scheme_becomes_the_enum) {
    struct Case {
        const char* url;
        Protocol protocol;
        curl::TlsMode tls;
        int port;
    };
    for (const Case& c :
         {Case{"imap://probe@mail.test", Protocol::imap, curl::TlsMode::none, 143},
          Case{"imaps://probe@mail.test", Protocol::imap, curl::TlsMode::tls, 993},
          Case{"pop3://probe@mail.test", Protocol::pop3, curl::TlsMode::none, 110},
          Case{"pop3s://probe@mail.test", Protocol::pop3, curl::TlsMode::tls, 995}}) {
        auto config = mailbox_config({"--mailbox", c.url});
        BOOST_TEST((config.endpoint.protocol == c.protocol), c.url);
        BOOST_TEST((config.endpoint.tls == c.tls), c.url);
        BOOST_TEST(config.endpoint.port == c.port, c.url);
    }
}
