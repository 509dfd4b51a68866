#pragma once
// Helpers shared by the unit tests (tests/unit/test_*.cpp): printing states, temporary
// directories, substring and exception-message checks, and a decimal-comma locale.
#include <sys/stat.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <clocale>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <iostream>
#include <locale>
#include <ostream>
#include <stdexcept>
#include <string>
#include <system_error>

#include "result/check_result.hpp"
#include "result/failure.hpp"
#include "result/status.hpp"

namespace mailprobe {
// Lets BOOST_TEST print states and long-output lines that differ.
inline std::ostream& operator<<(std::ostream& out, Status s) {
    return out << status_name(s);
}
inline std::ostream& operator<<(std::ostream& out, const Detail& d) {
    return out << d.text << " (-v level " << static_cast<int>(d.level) << ")";
}
}  // namespace mailprobe

namespace mailprobe::test {

// How late a deadline test lets a bounded operation end: what a loaded 2-core machine or a
// sanitized build adds on top of the clock the code itself watches (scheduling, ASan).
// scripts/ci-extra.sh raises it for the sanitized suite, as for the integration tests.
inline double deadline_slack() {
    const char* text = std::getenv("MAILPROBE_DEADLINE_SLACK");
    return text != nullptr ? std::strtod(text, nullptr) : 0.5;
}

inline bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

// A fresh directory under the system temp directory, removed with everything in it at the end.
class TempDir {
public:
    TempDir() {
        std::string templ = (std::filesystem::temp_directory_path() / "mailprobe-test-XXXXXX");
        BOOST_REQUIRE(::mkdtemp(templ.data()) != nullptr);
        path = templ;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    std::string sub(const std::string& name) const { return path + "/" + name; }

    // Writes `content` to the file `name` with exactly `mode`; returns its path.
    std::string write(const std::string& name, const std::string& content, mode_t mode) const {
        std::string file = sub(name);
        std::ofstream(file, std::ios::binary) << content;
        BOOST_REQUIRE(::chmod(file.c_str(), mode) == 0);
        return file;
    }

    std::string path;
};

// The message of the E that f throws; fails the test (and returns "") when f throws nothing
// or something else.
template <typename E, typename F>
std::string message_of(F&& f) {
    try {
        f();
    } catch (const E& e) {
        return e.what();
    } catch (const std::exception& e) {
        BOOST_ERROR("threw another exception: " << e.what());
        return "";
    }
    BOOST_ERROR("did not throw");
    return "";
}

// The message of the CheckFailure that f throws, which must carry the state `expected`.
template <typename F>
std::string failure_of(F&& f, Status expected = Status::critical) {
    try {
        f();
    } catch (const CheckFailure& failure) {
        BOOST_TEST(failure.status() == expected, "'" << failure.what() << "'");
        return failure.what();
    } catch (const std::exception& e) {
        BOOST_ERROR("threw another exception: " << e.what());
        return "";
    }
    BOOST_ERROR("did not throw a CheckFailure");
    return "";
}

// Requires a CheckFailure with state `expected` whose message contains every part.
template <typename F>
void expect_failure(F&& f, Status expected, std::initializer_list<std::string> parts) {
    std::string message = failure_of(f, expected);
    for (const auto& part : parts) {
        BOOST_TEST(contains(message, part), "'" << message << "' lacks '" << part << "'");
    }
}

// The locale with a decimal comma that scripts/install-deps.sh generates. A test that proves
// numbers stay locale-independent means nothing without it, so a missing locale fails the test;
// MAILPROBE_SKIP_LOCALE_TESTS=1 skips such tests instead, with a warning on stderr.
inline constexpr const char* k_foreign_locale = "de_DE.UTF-8";

inline bool foreign_locale_installed() {
    try {
        std::locale probe(k_foreign_locale);
    } catch (const std::runtime_error&) {
        return false;
    }
    return true;
}

// Boost.Test precondition: *boost::unit_test::precondition(foreign_locale_or_fail)
inline boost::test_tools::assertion_result foreign_locale_or_fail(boost::unit_test::test_unit_id) {
    if (foreign_locale_installed()) return true;
    const char* skip = std::getenv("MAILPROBE_SKIP_LOCALE_TESTS");
    if (skip == nullptr || std::string(skip) != "1") return true;  // the test then fails
    std::cerr << "WARNING: SKIPPED a locale test: " << k_foreign_locale
              << " is not installed (scripts/install-deps.sh generates it)\n";
    boost::test_tools::assertion_result skipped(false);
    skipped.message() << k_foreign_locale << " not installed, MAILPROBE_SKIP_LOCALE_TESTS=1";
    return skipped;
}

// Switches the global C and C++ locales to de_DE.UTF-8 (decimal comma) for one test;
// restores "C" afterwards.
class ForeignLocale {
public:
    ForeignLocale() {
        BOOST_REQUIRE_MESSAGE(foreign_locale_installed(),
                              k_foreign_locale << " is not installed: run scripts/install-deps.sh"
                                                  " (or MAILPROBE_SKIP_LOCALE_TESTS=1 to skip)");
        std::locale::global(std::locale(k_foreign_locale));
        BOOST_REQUIRE(std::setlocale(LC_ALL, k_foreign_locale) != nullptr);
        BOOST_REQUIRE_EQUAL(std::string(std::localeconv()->decimal_point), ",");
    }
    ~ForeignLocale() {
        std::locale::global(std::locale::classic());
        std::setlocale(LC_ALL, "C");
    }
    ForeignLocale(const ForeignLocale&) = delete;
    ForeignLocale& operator=(const ForeignLocale&) = delete;
};

}  // namespace mailprobe::test
