#define BOOST_TEST_MODULE token_cache
#include <sys/stat.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <string>

#include "oauth2/token_cache.hpp"

using namespace mailprobe;
using namespace mailprobe::oauth2;
namespace fs = std::filesystem;

namespace {

struct TempDir {
    fs::path path = fs::temp_directory_path() / ("mp-token-cache-" + std::to_string(::getpid()));
    TempDir() { fs::create_directories(path); }
    ~TempDir() { fs::remove_all(path); }
};

const CacheKey k_key{"https://login.example/token", "app-1", "https://mail.example/", ""};

}  // namespace

BOOST_AUTO_TEST_CASE(file_format_round_trip) {
    CachedToken t{"eyJ0.eyJ1.c2ln", 1764560000};
    const std::string text = format_cached_token(t);
    BOOST_TEST(text == "mailprobe-oauth2-token 1\nexpires 1764560000\ntoken eyJ0.eyJ1.c2ln\n");
    auto back = parse_cached_token(text);
    BOOST_REQUIRE(back.has_value());
    BOOST_TEST(back->access_token == t.access_token);
    BOOST_TEST(back->expires_at == t.expires_at);
}

BOOST_AUTO_TEST_CASE(foreign_or_damaged_files_are_no_token) {
    for (const char* text : {
             "",
             "mailprobe-oauth2-token 2\nexpires 1\ntoken a\n",        // another version
             "mailprobe-oauth2-token 1\nexpires 1\n",                 // truncated
             "mailprobe-oauth2-token 1\nexpires 1\ntoken a",          // no final newline
             "mailprobe-oauth2-token 1\nexpires x\ntoken a\n",        // not a number
             "mailprobe-oauth2-token 1\nexpires 1\ntoken a b\n",      // not one token
             "mailprobe-oauth2-token 1\nexpires 1\ntoken a\nmore\n",  // trailing lines
             "mailprobe-oauth2-token 1\nexpires 1\ntoken \n",         // empty token
         }) {
        BOOST_TEST(!parse_cached_token(text).has_value(), text);
    }
}

BOOST_AUTO_TEST_CASE(expiry_margin) {
    const CachedToken t{"a", 10'000};
    BOOST_TEST(usable(t, 9'000, 300));
    BOOST_TEST(usable(t, 9'699, 300));
    BOOST_TEST(!usable(t, 9'700, 300));  // within the margin: ask for a new one
    BOOST_TEST(!usable(t, 10'001, 0));
}

BOOST_AUTO_TEST_CASE(keys_name_distinct_files) {
    TempDir d;
    TokenCache a(d.path.string(), k_key);
    BOOST_TEST(a.path().starts_with(d.path.string() + "/oauth2-token-"));
    BOOST_TEST(a.path().ends_with(".cache"));
    BOOST_TEST(TokenCache(d.path.string(), k_key).path() == a.path());
    for (CacheKey other : {CacheKey{"https://other/token", "app-1", "https://mail.example/", ""},
                           CacheKey{k_key.token_url, "app-2", k_key.scope, ""},
                           CacheKey{k_key.token_url, "app-1", "other", ""},
                           CacheKey{k_key.token_url, "app-1", k_key.scope, "t1@example.org"},
                           // the separator is part of the key: no shifting of text between fields
                           CacheKey{k_key.token_url, "app-1https://mail.example/", "", ""}}) {
        BOOST_TEST(TokenCache(d.path.string(), other).path() != a.path());
    }
}

BOOST_AUTO_TEST_CASE(store_load_drop_with_owner_only_file) {
    TempDir d;
    TokenCache cache(d.path.string(), k_key);
    BOOST_TEST(!cache.load().has_value());
    cache.store({"tok-1", 2'000'000'000});
    struct stat st {};
    BOOST_REQUIRE(::stat(cache.path().c_str(), &st) == 0);
    BOOST_TEST((st.st_mode & 0777) == 0600);
    BOOST_TEST(cache.load()->access_token == "tok-1");
    cache.store({"tok-2", 2'000'000'001});  // replaced atomically, no temp file left
    BOOST_TEST(cache.load()->access_token == "tok-2");
    std::size_t files = 0;
    for (const auto& e : fs::directory_iterator(d.path)) files += e.path().extension() != ".lock";
    BOOST_TEST(files == 1u);
    cache.drop("tok-1");  // not the cached one: kept
    BOOST_TEST(cache.load().has_value());
    cache.drop("tok-2");
    BOOST_TEST(!cache.load().has_value());
}

BOOST_AUTO_TEST_CASE(damaged_file_reads_as_absent) {
    TempDir d;
    TokenCache cache(d.path.string(), k_key);
    std::ofstream(cache.path()) << "garbage";
    BOOST_TEST(!cache.load().has_value());
}

BOOST_AUTO_TEST_CASE(lock_excludes_a_second_holder_until_released) {
    TempDir d;
    TokenCache cache(d.path.string(), k_key);
    {
        auto first = cache.lock(Deadline::after_seconds(1));
        BOOST_REQUIRE(first.has_value());
        // flock is per open file: a second open in this process waits like another run would
        auto start = Deadline::Clock::now();
        auto second = cache.lock(Deadline::after_seconds(0.3));
        BOOST_TEST(!second.has_value());
        BOOST_TEST((Deadline::Clock::now() - start >= std::chrono::milliseconds(250)));
    }
    BOOST_TEST(cache.lock(Deadline::after_seconds(1)).has_value());
}
