// --cert-days (checks/certificate.hpp): a server certificate as a sub-result with the days
// left as perfdata, WARNING/CRITICAL below the limits and CRITICAL once expired; and how the
// alerts of such sub-results reach line 1 (result::line_summary) from wherever they sit.
#define BOOST_TEST_MODULE certificate
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "checks/certificate.hpp"
#include "probe/probe.hpp"
#include "support.hpp"

using namespace mailprobe;
using namespace mailprobe::checks;
using curl::CertDays;
using curl::CertExpiry;
using curl::Endpoint;
using curl::TlsMode;
using mailprobe::test::contains;

namespace {

constexpr std::int64_t k_day = 86400;

Endpoint endpoint(TlsMode tls = TlsMode::tls) {
    Endpoint ep;
    ep.protocol = curl::Protocol::smtp;
    ep.host = "mx.example.org";
    ep.port = 465;
    ep.tls = tls;
    return ep;
}

// A certificate ending `days` whole days and half a day from now: days_left() is `days`
// however long the test takes (it rounds down, also below zero: -3 here is -2.5 days).
CertExpiry expiring_in(std::int64_t days, std::string subject = "CN=mx.example.org") {
    std::int64_t now = probe::unix_now_ms() / 1000;
    return CertExpiry{now + days * k_day + k_day / 2, std::move(subject)};
}

// "2026-12-01" for Unix seconds, by the calendar of <chrono> (not the code's strftime).
std::string iso_date(std::int64_t unix_s) {
    using namespace std::chrono;
    year_month_day ymd{floor<days>(sys_seconds{seconds{unix_s}})};
    char buf[16];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
    return buf;
}

std::string perfdata_of(const CheckResult& r) {
    std::string out;
    for (const auto& d : r.perfdata) out += (out.empty() ? "" : " ") + format_perfdatum(d);
    return out;
}

CheckResult judged(const CertExpiry& cert, std::optional<CertDays> limits) {
    auto r = certificate_result("smtp_cert_days", endpoint(), cert, limits);
    BOOST_REQUIRE(r.has_value());
    return *r;
}

}  // namespace

BOOST_AUTO_TEST_CASE(without_cert_days_there_is_no_certificate_result) {
    BOOST_TEST(!certificate_result("smtp_cert_days", endpoint(), expiring_in(3), std::nullopt));
    BOOST_TEST(!certificate_result("mailbox_cert_days", endpoint(TlsMode::none), std::nullopt,
                                   std::nullopt));
}

BOOST_AUTO_TEST_CASE(days_left_are_judged_against_warn_and_crit) {
    struct Case {
        std::int64_t days;
        CertDays limits;
        Status status;
        std::string words;  // what the summary says after "TLS certificate of mx...:465 "
        std::string perfdata;
    };
    const std::vector<Case> cases = {
        {100, {30, 14}, Status::ok, "valid for 100 more days (until ", "=100;30:;14:"},
        {30, {30, 14}, Status::ok, "valid for 30 more days (until ", "=30;30:;14:"},
        {29, {30, 14}, Status::warning, "expires in 29 days (", "=29;30:;14:"},
        {14, {30, 14}, Status::warning, "expires in 14 days (", "=14;30:;14:"},
        {13, {30, 14}, Status::critical, "expires in 13 days (", "=13;30:;14:"},
        {0, {30, 14}, Status::critical, "expires in 0 days (", "=0;30:;14:"},
        // WARN alone: never CRITICAL before the end
        {2, {30, std::nullopt}, Status::warning, "expires in 2 days (", "=2;30:"},
        {0, {0, std::nullopt}, Status::ok, "valid for 0 more days (until ", "=0;0:"},
        // expired (only reachable with --insecure): CRITICAL whatever the limits
        {-3, {30, 14}, Status::critical, "expired 3 days ago (", "=-3;30:;14:"},
        {-1, {0, std::nullopt}, Status::critical, "expired 1 days ago (", "=-1;0:"},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT("days " << c.days << ", limits " << c.limits.warning) {
            auto cert = expiring_in(c.days);
            auto r = judged(cert, c.limits);
            BOOST_TEST(r.status == c.status);
            BOOST_TEST(r.summary == "TLS certificate of mx.example.org:465 " + c.words +
                                        iso_date(cert.not_after) + ")");
            BOOST_TEST(perfdata_of(r) == "smtp_cert_days" + c.perfdata);
            BOOST_TEST(r.details == std::vector<std::string>{"subject: CN=mx.example.org"},
                       boost::test_tools::per_element());
        }
    }
}

BOOST_AUTO_TEST_CASE(the_label_is_the_callers_and_an_empty_subject_adds_no_line) {
    auto r = certificate_result("mailbox_cert_days", endpoint(), expiring_in(50, ""),
                                CertDays{30, std::nullopt});
    BOOST_REQUIRE(r.has_value());
    BOOST_TEST(perfdata_of(*r) == "mailbox_cert_days=50;30:");
    BOOST_TEST(r->details.empty());
}

BOOST_AUTO_TEST_CASE(a_connection_without_tls_is_said_and_not_judged) {
    auto r = certificate_result("smtp_cert_days", endpoint(TlsMode::none), std::nullopt,
                                CertDays{30, 14});
    BOOST_REQUIRE(r.has_value());
    BOOST_TEST(r->status == Status::ok);
    BOOST_TEST(r->summary == "TLS certificate: none, mx.example.org:465 was reached without TLS");
    BOOST_TEST(r->perfdata.empty());
}

BOOST_AUTO_TEST_CASE(tls_without_an_expiry_date_is_unknown) {
    for (auto tls : {TlsMode::starttls, TlsMode::tls}) {
        auto r =
            certificate_result("smtp_cert_days", endpoint(tls), std::nullopt, CertDays{30, 14});
        BOOST_REQUIRE(r.has_value());
        BOOST_TEST(r->status == Status::unknown);
        BOOST_TEST(r->summary ==
                   "TLS certificate of mx.example.org:465: expiry date not available");
        BOOST_TEST(r->perfdata.empty());
    }
}

namespace {

// A round trip's tree as the checks build it: send stage with its certificate child, mailbox
// stage with its own, summary on the root.
CheckResult tree(std::optional<CheckResult> smtp_cert, std::optional<CheckResult> mailbox_cert) {
    CheckResult root;
    root.summary = "probe delivered in 1.2 s";
    CheckResult& send = root.add_child(CheckResult{});
    send.summary = "send: accepted by mx.example.org:465";
    if (smtp_cert) send.add_child(*smtp_cert);
    CheckResult& mailbox = root.add_child(CheckResult{});
    mailbox.summary = "mailbox: logged in";
    if (mailbox_cert) mailbox.add_child(*mailbox_cert);
    return root;
}

}  // namespace

BOOST_AUTO_TEST_CASE(alerting_certificates_are_named_after_the_summary_in_tree_order) {
    CertDays limits{30, 14};
    auto smtp = *certificate_result("smtp_cert_days", endpoint(), expiring_in(20), limits);
    auto imap_ep = endpoint();
    imap_ep.host = "imap.example.org";
    imap_ep.port = 993;
    auto imap = *certificate_result("mailbox_cert_days", imap_ep, expiring_in(-2), limits);
    auto root = tree(smtp, imap);
    BOOST_TEST(line_summary(root) ==
               "probe delivered in 1.2 s; " + smtp.summary + "; " + imap.summary);
    BOOST_TEST(
        contains(line_summary(root), "; TLS certificate of imap.example.org:993 expired 2 days"));
}

BOOST_AUTO_TEST_CASE(an_ok_certificate_is_not_named_another_alert_is) {
    CertDays limits{30, 14};
    auto fine = *certificate_result("smtp_cert_days", endpoint(), expiring_in(200), limits);
    auto root = tree(fine, std::nullopt);
    BOOST_TEST(line_summary(root) == "probe delivered in 1.2 s");
    CheckResult flagged;
    flagged.status = Status::warning;
    flagged.summary = "120 probe(s) of this check lie flagged";
    root.children[1].add_child(flagged);
    BOOST_TEST(line_summary(root) ==
               "probe delivered in 1.2 s; 120 probe(s) of this check lie flagged");
}

BOOST_AUTO_TEST_CASE(an_unknown_expiry_is_named_too) {
    auto unknown =
        *certificate_result("mailbox_cert_days", endpoint(), std::nullopt, CertDays{30, 14});
    auto root = tree(std::nullopt, unknown);
    BOOST_TEST(line_summary(root) ==
               "probe delivered in 1.2 s; TLS certificate of mx.example.org:465: expiry date "
               "not available");
}

BOOST_AUTO_TEST_CASE(without_a_summary_the_stage_holding_the_alert_speaks) {
    auto smtp = *certificate_result("smtp_cert_days", endpoint(), expiring_in(3), CertDays{30, 14});
    auto root = tree(smtp, std::nullopt);
    root.summary.clear();
    BOOST_TEST(line_summary(root) == "send: accepted by mx.example.org:465; " + smtp.summary);
}
