// state::read_secret_file, read_named_file/read_named_secret and require_trusted_directory
// (common/state/secret_file.hpp): the one reader of password, token and key files with one
// set of rules, and the refusal of files and directories another local user could have planted. The
// tests run as root (CTest does); the owner cases chown to `nobody`, and
// tests/integration/test_planted_files.py runs the plugins as `nobody`.
#define BOOST_TEST_MODULE secret_file
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "state/secret_file.hpp"
#include "state/store.hpp"

using namespace mailprobe;
using namespace mailprobe::state;
namespace fs = std::filesystem;

namespace {

constexpr uid_t nobody = 65534;

struct TempDir {
    std::string path;
    TempDir() {
        char templ[] = "/tmp/mailprobe-secret-test-XXXXXX";
        BOOST_REQUIRE(::mkdtemp(templ) != nullptr);
        path = templ;
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
    std::string write(const std::string& name, const std::string& content, mode_t mode) const {
        std::string p = path + "/" + name;
        std::ofstream(p, std::ios::binary) << content;
        BOOST_REQUIRE(::chmod(p.c_str(), mode) == 0);
        return p;
    }
};

// The UsageError message of fn; fails the test when fn throws nothing or something else.
template <typename F>
std::string usage_error(F fn) {
    try {
        fn();
    } catch (const UsageError& e) {
        return e.what();
    } catch (const std::exception& e) {
        BOOST_ERROR("not a UsageError: " << e.what());
        return "";
    }
    BOOST_ERROR("no error thrown");
    return "";
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

// A --probe-secret-file key; its notes are dropped.
std::string key_file(const std::string& path) {
    std::vector<std::string> notes;
    return read_key_file(path, notes);
}

std::string value_of(const std::string& path, Ownership ownership = Ownership::any) {
    auto secret = read_secret_file(path, "secret file", ownership);
    BOOST_REQUIRE(secret.has_value());
    return secret->value;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(content)

BOOST_AUTO_TEST_CASE(one_line_with_or_without_line_end) {
    TempDir dir;
    struct Case {
        const char* content;
        const char* value;
    };
    for (const Case& c :
         {Case{"s3cret", "s3cret"}, Case{"s3cret\n", "s3cret"}, Case{"s3cret\r\n", "s3cret"},
          Case{"s3cret\n\n", "s3cret"}, Case{"with space\t\n", "with space\t"}}) {
        BOOST_TEST(value_of(dir.write("f", c.content, 0600)) == c.value);
        BOOST_TEST(value_of(dir.path + "/f", Ownership::ours) == c.value);
    }
}

BOOST_AUTO_TEST_CASE(refused_contents_are_named_never_shown) {
    TempDir dir;
    struct Case {
        std::string content;
        const char* says;
    };
    for (const Case& c : {Case{"", "is empty"}, Case{"\r\n", "is empty"},
                          Case{"pw\nX1 DELETE Victim\n", "more than one line"},
                          Case{"pw\rX1 DELETE Victim", "more than one line"},
                          Case{std::string("pw\0X", 4), "NUL byte"}}) {
        std::string path = dir.write("f", c.content, 0600);
        std::string msg =
            usage_error([&] { (void)read_secret_file(path, "secret file", Ownership::any); });
        BOOST_TEST(contains(msg, path), msg);
        BOOST_TEST(contains(msg, c.says), msg);
        BOOST_TEST(!contains(msg, "Victim"), msg);
    }
}

BOOST_AUTO_TEST_CASE(oversized_file_refused_before_reading) {
    TempDir dir;
    std::string path = dir.write("big", std::string(max_secret_bytes + 1, 'x'), 0600);
    std::string msg =
        usage_error([&] { (void)read_secret_file(path, "secret file", Ownership::any); });
    BOOST_TEST(contains(msg, "too large (over 64 KiB)"), msg);
    // exactly the limit is still a (long) secret
    BOOST_TEST(value_of(dir.write("edge", std::string(max_secret_bytes, 'y'), 0600)).size() ==
               max_secret_bytes);
}

BOOST_AUTO_TEST_CASE(directory_and_special_files_named) {
    TempDir dir;
    std::string sub = dir.path + "/sub";
    BOOST_REQUIRE(::mkdir(sub.c_str(), 0700) == 0);
    std::string msg =
        usage_error([&] { (void)read_secret_file(sub, "secret file", Ownership::any); });
    BOOST_TEST(contains(msg, sub + " is a directory"), msg);
    std::string fifo = dir.path + "/fifo";
    BOOST_REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    msg = usage_error([&] { (void)read_secret_file(fifo, "secret file", Ownership::any); });
    BOOST_TEST(contains(msg, "not a regular file"), msg);
}

BOOST_AUTO_TEST_CASE(missing_file_is_nullopt_unreadable_is_named) {
    TempDir dir;
    BOOST_TEST(!read_secret_file(dir.path + "/none", "secret file", Ownership::any).has_value());
    std::string msg = usage_error([&] { (void)key_file(dir.path + "/none"); });
    BOOST_TEST(contains(msg, dir.path + "/none"), msg);
}

BOOST_AUTO_TEST_CASE(readability_reported) {
    TempDir dir;
    for (mode_t mode : {0600, 0400}) {
        auto s = read_secret_file(dir.write("f", "pw", mode), "secret file", Ownership::any);
        BOOST_TEST(!s->readable_by_others);
    }
    for (mode_t mode : {0640, 0644, 0604}) {
        auto s = read_secret_file(dir.write("f", "pw", mode), "secret file", Ownership::ours);
        BOOST_TEST(s->readable_by_others);
    }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(documents)

BOOST_AUTO_TEST_CASE(kept_whole_with_every_line) {
    TempDir dir;
    const std::string pem = "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n";
    auto doc = read_secret_file(dir.write("k.pem", pem, 0600), "client key", Ownership::any,
                                Layout::document);
    BOOST_REQUIRE(doc.has_value());
    BOOST_TEST(doc->value == pem);
}

BOOST_AUTO_TEST_CASE(blank_or_nul_refused_by_the_same_rules) {
    TempDir dir;
    for (const std::string& content : {std::string(" \r\n\t\n"), std::string("{\0}", 3)}) {
        std::string path = dir.write("k.json", content, 0600);
        std::string msg = usage_error([&] {
            (void)read_secret_file(path, "service account key file", Ownership::any,
                                   Layout::document);
        });
        BOOST_TEST(contains(msg, "service account key file " + path + " "), msg);
    }
    std::string big = dir.write("big.json", std::string(max_secret_bytes + 1, '{'), 0600);
    std::string msg = usage_error(
        [&] { (void)read_secret_file(big, "client key", Ownership::any, Layout::document); });
    BOOST_TEST(contains(msg, "too large (over 64 KiB)"), msg);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(named_files)

BOOST_AUTO_TEST_CASE(missing_one_is_a_usage_error_in_one_wording) {
    TempDir dir;
    std::string none = dir.path + "/none";
    std::vector<std::string> notes;
    BOOST_TEST(usage_error([&] {
                   (void)read_named_secret(none, "client key", Ownership::any, Layout::document,
                                           notes);
               }) == "cannot read client key " + none + ": No such file or directory");
    BOOST_TEST(usage_error([&] {
                   (void)read_named_file(none, "client certificate", Ownership::any,
                                         Layout::document);
               }) == "cannot read client certificate " + none + ": No such file or directory");
    BOOST_TEST(usage_error([&] { (void)key_file(none); }) ==
               "cannot read probe key " + none + ": No such file or directory");
}

BOOST_AUTO_TEST_CASE(readable_by_others_is_a_note_not_a_refusal) {
    TempDir dir;
    std::vector<std::string> notes;
    std::string tight = dir.write("tight", "pw\n", 0600);
    BOOST_TEST(read_named_secret(tight, secret_file_what, Ownership::any, Layout::line, notes) ==
               "pw");
    BOOST_TEST(notes.empty());
    for (mode_t mode : {0640, 0604}) {
        notes.clear();
        std::string loose = dir.write("loose", "pw\n", mode);
        BOOST_TEST(read_named_secret(loose, secret_file_what, Ownership::any, Layout::line,
                                     notes) == "pw");
        BOOST_REQUIRE(notes.size() == 1u);
        BOOST_TEST(notes[0] ==
                   "secret file " + loose + " is readable by group or others (chmod 600)");
    }
    notes.clear();
    std::string key = dir.write("key", "k3y\n", 0644);
    BOOST_TEST(read_key_file(key, notes) == "k3y");
    BOOST_REQUIRE(notes.size() == 1u);
    BOOST_TEST(notes[0] == "probe key " + key + " is readable by group or others (chmod 600)");
}

BOOST_AUTO_TEST_CASE(named_file_reports_readability_and_leaves_the_note_to_the_caller) {
    TempDir dir;
    std::string crt = dir.write("app.crt", "-----BEGIN CERTIFICATE-----\n", 0644);
    SecretFile file = read_named_file(crt, "client certificate", Ownership::any, Layout::document);
    BOOST_TEST(file.value == "-----BEGIN CERTIFICATE-----\n");
    BOOST_TEST(file.readable_by_others);  // reported; the caller decides it is no secret
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(planted_key)

BOOST_AUTO_TEST_CASE(symlink_refused_for_keys_followed_for_passwords) {
    TempDir dir;
    std::string target = dir.write("target", "k3y", 0600);
    std::string link = dir.path + "/link";
    BOOST_REQUIRE(::symlink(target.c_str(), link.c_str()) == 0);
    BOOST_TEST(value_of(link, Ownership::any) == "k3y");
    std::string msg =
        usage_error([&] { (void)read_secret_file(link, "probe key", Ownership::ours); });
    BOOST_TEST(contains(msg, "probe key " + link + " is a symbolic link"), msg);
    BOOST_TEST(contains(msg, "replace the link"), msg);
}

BOOST_AUTO_TEST_CASE(writable_by_group_or_others_refused) {
    TempDir dir;
    for (mode_t mode : {0620, 0602, 0666}) {
        std::string path = dir.write("k", "k3y", mode);
        std::string msg = usage_error([&] { (void)key_file(path); });
        BOOST_TEST(contains(msg, path + " is writable by group or others"), msg);
        BOOST_TEST(contains(msg, "chmod 600 " + path), msg);
        BOOST_TEST(value_of(path, Ownership::any) == "k3y");  // a password file: read
    }
}

BOOST_AUTO_TEST_CASE(foreign_owner_refused) {
    BOOST_REQUIRE_MESSAGE(::geteuid() == 0, "needs root to give a file to nobody");
    TempDir dir;
    std::string path = dir.write("k", "k3y", 0600);
    BOOST_REQUIRE(::chown(path.c_str(), nobody, nobody) == 0);
    std::string msg = usage_error([&] { (void)key_file(path); });
    BOOST_TEST(contains(msg, path + " is owned by uid 65534"), msg);
    BOOST_TEST(contains(msg, "remove it or chown it"), msg);
    BOOST_TEST(value_of(path, Ownership::any) == "k3y");
}

BOOST_AUTO_TEST_CASE(generated_key_in_state_dir_checked_too) {
    TempDir dir;
    StateDir state = StateDir::open(dir.path);
    std::string key = state.load_or_create_key();
    std::string path = dir.path + "/probe.key";
    BOOST_REQUIRE(::chmod(path.c_str(), 0666) == 0);
    std::string msg = usage_error([&] { (void)state.load_or_create_key(); });
    BOOST_TEST(contains(msg, "writable by group or others"), msg);
    BOOST_REQUIRE(::chmod(path.c_str(), 0600) == 0);
    BOOST_REQUIRE(::rename(path.c_str(), (dir.path + "/real.key").c_str()) == 0);
    BOOST_REQUIRE(::symlink((dir.path + "/real.key").c_str(), path.c_str()) == 0);
    msg = usage_error([&] { (void)state.load_or_create_key(); });
    BOOST_TEST(contains(msg, "symbolic link"), msg);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(state_directory)

BOOST_AUTO_TEST_CASE(world_writable_without_sticky_bit_refused) {
    TempDir dir;
    BOOST_REQUIRE(::chmod(dir.path.c_str(), 0777) == 0);
    std::string msg = usage_error([&] { require_trusted_directory(dir.path); });
    BOOST_TEST(contains(msg, dir.path + " is writable by others without the sticky bit"), msg);
    BOOST_TEST(contains(msg, "chmod 700 " + dir.path), msg);
    msg = usage_error([&] { (void)StateDir::open(dir.path); });
    BOOST_TEST(contains(msg, "sticky bit"), msg);
    BOOST_REQUIRE(::chmod(dir.path.c_str(), 01777) == 0);  // like /tmp
    require_trusted_directory(dir.path);
    BOOST_REQUIRE(::chmod(dir.path.c_str(), 0770) == 0);  // group: not "others"
    require_trusted_directory(dir.path);
}

BOOST_AUTO_TEST_CASE(foreign_owner_refused_root_accepted) {
    BOOST_REQUIRE_MESSAGE(::geteuid() == 0, "needs root to give a directory to nobody");
    TempDir dir;
    require_trusted_directory(dir.path);  // ours (root)
    BOOST_REQUIRE(::chown(dir.path.c_str(), nobody, nobody) == 0);
    std::string msg = usage_error([&] { require_trusted_directory(dir.path); });
    BOOST_TEST(contains(msg, dir.path + " is owned by uid 65534"), msg);
    BOOST_TEST(contains(msg, "--state-dir"), msg);
}

BOOST_AUTO_TEST_SUITE_END()
