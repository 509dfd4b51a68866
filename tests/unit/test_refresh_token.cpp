#define BOOST_TEST_MODULE refresh_token
#include "oauth2/refresh_token.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "support.hpp"

using namespace mailprobe;
using namespace mailprobe::test;

namespace {

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

mode_t mode_of(const std::string& path) {
    struct stat info {};
    BOOST_REQUIRE(::stat(path.c_str(), &info) == 0);
    return info.st_mode & 07777;
}

ino_t inode_of(const std::string& path) {
    struct stat info {};
    BOOST_REQUIRE(::stat(path.c_str(), &info) == 0);
    return info.st_ino;
}

}  // namespace

BOOST_AUTO_TEST_CASE(grant_fields_follow_rfc6749_section_6) {
    using Fields = oauth2::FormFields;
    BOOST_TEST((oauth2::refresh_token_grant_fields("1//0g-rt", "https://mail.google.com/") ==
                Fields{{"grant_type", "refresh_token"},
                       {"refresh_token", "1//0g-rt"},
                       {"scope", "https://mail.google.com/"}}));
    BOOST_TEST((oauth2::refresh_token_grant_fields("rt", "") ==
                Fields{{"grant_type", "refresh_token"}, {"refresh_token", "rt"}}));
}

BOOST_AUTO_TEST_CASE(reads_the_token_as_a_one_line_secret) {
    TempDir dir;
    std::vector<std::string> warnings;
    BOOST_TEST(oauth2::read_refresh_token(dir.write("rt", "old-token\n", 0600), warnings) ==
               "old-token");
    BOOST_TEST(warnings.empty());
    auto two = dir.write("two", "a\nb\n", 0600);
    BOOST_TEST(contains(message_of<UsageError>([&] { oauth2::read_refresh_token(two, warnings); }),
                        "has more than one line"));
}

BOOST_AUTO_TEST_CASE(a_rotated_token_replaces_the_file_with_mode_0600) {
    TempDir dir;
    auto path = dir.write("rt", "old-token\n", 0640);
    oauth2::store_rotated_refresh_token(path, "new-token");
    BOOST_TEST(slurp(path) == "new-token\n");
    BOOST_TEST(mode_of(path) == 0600u);
    std::vector<std::string> warnings;
    BOOST_TEST(oauth2::read_refresh_token(path, warnings) == "new-token");
    // Nothing is left behind next to it.
    BOOST_TEST(std::distance(std::filesystem::directory_iterator(dir.path),
                             std::filesystem::directory_iterator()) == 1);
}

BOOST_AUTO_TEST_CASE(the_file_is_replaced_not_rewritten_in_place) {
    // A concurrent reader that opened the old file reads the whole old token, and a new
    // open sees the whole new one: no moment shows a truncated or mixed file.
    TempDir dir;
    auto path = dir.write("rt", "old-token\n", 0600);
    std::ifstream reader(path);
    ino_t before = inode_of(path);
    oauth2::store_rotated_refresh_token(path, "new-token");
    BOOST_TEST(inode_of(path) != before);
    std::string old_seen;
    std::getline(reader, old_seen);
    BOOST_TEST(old_seen == "old-token");
    BOOST_TEST(slurp(path) == "new-token\n");
}

BOOST_AUTO_TEST_CASE(a_link_stays_and_its_target_gets_the_token) {
    TempDir dir;
    auto target = dir.write("real-rt", "old-token\n", 0600);
    auto link = dir.sub("rt");
    std::filesystem::create_symlink(target, link);
    oauth2::store_rotated_refresh_token(link, "new-token");
    BOOST_TEST(std::filesystem::is_symlink(link));
    BOOST_TEST(slurp(target) == "new-token\n");
}

BOOST_AUTO_TEST_CASE(a_token_that_is_not_one_line_is_not_written) {
    TempDir dir;
    auto path = dir.write("rt", "old-token\n", 0600);
    for (const std::string& bad :
         {std::string(""), std::string("a\nb"), std::string("a\rb"), std::string("a\0b", 3)}) {
        expect_failure([&] { oauth2::store_rotated_refresh_token(path, bad); }, Status::critical,
                       {"refresh token that is not one line", path + " left as it was"});
        BOOST_TEST(slurp(path) == "old-token\n");
    }
}
