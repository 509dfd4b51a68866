#define BOOST_TEST_MODULE state
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <sstream>
#include <thread>
#include <vector>

#include "result/failure.hpp"
#include "state/store.hpp"
#include "support.hpp"

using namespace mailprobe;
using namespace mailprobe::state;
using namespace mailprobe::test;
namespace fs = std::filesystem;

namespace mailprobe::state {
// Lets BOOST_TEST print states that differ.
std::ostream& operator<<(std::ostream& out, const CheckState& state) {
    return out << serialize(state);
}
}  // namespace mailprobe::state

namespace {

// A --probe-secret-file key (its notes are the reader's business: test_secret_file.cpp).
std::string key_file(const std::string& path) {
    std::vector<std::string> notes;
    return read_key_file(path, notes);
}

void write_text(const std::string& path, const std::string& text) {
    std::ofstream(path, std::ios::binary) << text;
}

std::string read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
}

// Runs fn and requires a CheckFailure(unknown) whose message contains every fragment.
void expect_unknown(const std::function<void()>& fn, std::initializer_list<std::string> parts) {
    expect_failure(fn, Status::unknown, parts);
}

CheckState sample_state(const std::string& identity) {
    CheckState state;
    state.identity = identity;
    state.delivered_total = 17;
    state.lost_total = 2;
    state.last_delivery = LastDelivery{"id 1=%", 1700000000000, 1700000004321, -25};
    state.outstanding = {{"p-1", 1700000001000, "smtp://relay.example:587"},
                         {"p 2\n", 1700000002000, "via with spaces = and %\r\n\x01"},
                         {"p-3", 0, ""}};
    return state;
}

// Deterministic state number i, as written by the crash-test child.
CheckState numbered_state(std::uint64_t i) {
    CheckState state;
    state.identity = "crash test";
    state.delivered_total = i;
    state.lost_total = i / 3;
    if (i > 0) state.last_delivery = LastDelivery{"d" + std::to_string(i), 1, 2, 1};
    for (std::uint64_t p = 0; p < i % 40; ++p) {
        auto n = static_cast<std::int64_t>(p);
        state.outstanding.push_back({"probe-" + std::to_string(i) + "-" + std::to_string(p), n,
                                     std::string(200, static_cast<char>('a' + p % 26))});
    }
    return state;
}

int wait_exit_code(pid_t pid) {
    int status = 0;
    BOOST_REQUIRE(::waitpid(pid, &status, 0) == pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Runs fn in a forked child; its return value is the exit code. Never returns in the child.
pid_t run_child(const std::function<int()>& fn) {
    pid_t pid = ::fork();
    BOOST_REQUIRE(pid >= 0);
    if (pid == 0) {
        int code = 99;
        try {
            code = fn();
        } catch (...) {
        }
        ::_exit(code);
    }
    return pid;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(format)

BOOST_AUTO_TEST_CASE(escape_is_percent_encoding_of_unsafe_bytes) {
    BOOST_TEST(escape_value("a b=c%\n\x7f") == "a%20b%3Dc%25%0A%7F");
    BOOST_TEST(escape_value("Grüße/日本") == "Grüße/日本");
    BOOST_TEST(*unescape_value("a%20b%3dc") == "a b=c");
    BOOST_TEST(!unescape_value("a%2").has_value());
    BOOST_TEST(!unescape_value("a%zz").has_value());
    BOOST_TEST(!unescape_value("a b").has_value());
}

BOOST_AUTO_TEST_CASE(round_trip_with_awkward_values) {
    for (std::string identity : {"plain", "with space", "a=b", "line\nbreak", "100% sure %41",
                                 "UTF-8 Grüße 日本", "", "\t\r\x01\x7f", "trailing ", "%"}) {
        CheckState state = sample_state(identity);
        std::string text = serialize(state);
        BOOST_TEST(parse(text, "x.state") == state);
        // Exactly one record per line: header, identity, 2 totals, last, 3 probes, end.
        BOOST_TEST(std::count(text.begin(), text.end(), '\n') == 9);
    }
    CheckState empty;
    BOOST_TEST(parse(serialize(empty), "x.state") == empty);
}

BOOST_AUTO_TEST_CASE(serialized_form_is_readable) {
    CheckState state;
    state.identity = "imap check";
    state.delivered_total = 3;
    state.last_delivery = LastDelivery{"abc", 1000, 3500, 2500};
    state.outstanding = {{"def", 2000, "mx=1"}};
    BOOST_TEST(serialize(state) ==
               "mailprobe-state 1\nidentity imap%20check\ndelivered_total 3\nlost_total 0\n"
               "last_delivery id=abc sent=1000 seen=3500 delay_ms=2500\n"
               "probe id=def sent=2000 via=mx%3D1\nend\n");
    // Field order and doubled spaces from hand edits are accepted.
    BOOST_TEST(parse("mailprobe-state 1\nlost_total 0\nidentity imap%20check\n"
                     "last_delivery  seen=3500 id=abc delay_ms=2500 sent=1000\n"
                     "delivered_total 3\nprobe via=mx%3D1 sent=2000 id=def\nend\n",
                     "x") == state);
}

BOOST_AUTO_TEST_CASE(version_mismatch) {
    expect_unknown([] { parse("mailprobe-state 2\nwhatever\n", "/s/x.state"); },
                   {"/s/x.state: unsupported state file version 2"});
    expect_unknown([] { parse("mailprobe-state one\n", "/s/x.state"); },
                   {"/s/x.state: corrupt state file: line 1: bad version"});
    expect_unknown([] { parse("hello world\n", "/s/x.state"); },
                   {"/s/x.state: corrupt state file: line 1: not a mailprobe state file"});
}

BOOST_AUTO_TEST_CASE(corrupt_lines_name_the_line) {
    const std::string head = "mailprobe-state 1\nidentity x\n";
    const std::string totals = "delivered_total 1\nlost_total 0\n";
    const std::vector<std::pair<std::string, std::string>> cases = {
        {head + "colour blue\n" + totals + "end\n", "line 3: unknown record 'colour'"},
        {head + "delivered_total 1x\nlost_total 0\nend\n", "line 3: bad number"},
        {head + "delivered_total -1\nlost_total 0\nend\n", "line 3: bad number"},
        {"mailprobe-state 1\nidentity a%zz\n" + totals + "end\n", "line 2: bad escape"},
        {"mailprobe-state 1\nidentity a\tb\n" + totals + "end\n", "line 2: bad escape"},
        {head + totals + "probe id=a sent=1\nend\n", "line 5: missing field 'via'"},
        {head + totals + "probe id=a sent=1 via= x=1\nend\n", "line 5: unexpected field 'x'"},
        {head + totals + "probe id=a sent=1 via= sent=2\nend\n", "line 5: duplicate field"},
        {head + "identity y\n" + totals + "end\n", "line 3: duplicate 'identity'"},
        {head + totals + "probe id=a sent=1 via=\nprobe id=a sent=2 via=\nend\n",
         "line 6: duplicate probe id 'a'"},
        {head + totals + "end\nprobe id=a sent=1 via=\n", "line 6: data after 'end'"},
        {head + totals + "end now\n", "line 5: unexpected text after 'end'"},
        {head + "lost_total 0\nend\n", "line 5: missing 'delivered_total'"},
        {head + totals + std::string(5, '\0') + "\nend\n", "line 5: unknown record '%00%00"},
    };
    for (const auto& [text, message] : cases) {
        BOOST_TEST_CONTEXT(message) {
            expect_unknown([&] { parse(text, "/s/x.state"); },
                           {"/s/x.state: corrupt state file: " + message});
        }
    }
}

BOOST_AUTO_TEST_CASE(every_truncation_is_detected) {
    std::string text = serialize(sample_state("truncate me"));
    for (std::size_t size = 0; size + 1 < text.size(); ++size) {
        BOOST_TEST_CONTEXT("size " << size) {
            expect_unknown([&] { parse(text.substr(0, size), "t"); }, {"t: corrupt state file"});
        }
    }
    // Only the final newline is optional.
    BOOST_TEST(parse(text.substr(0, text.size() - 1), "t") == sample_state("truncate me"));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(directory)

BOOST_AUTO_TEST_CASE(creates_nested_dir_with_mode_0700) {
    TempDir tmp;
    StateDir dir = StateDir::open(tmp.sub("a/b/c/"));
    BOOST_TEST(dir.path() == tmp.sub("a/b/c"));
    BOOST_TEST((fs::status(dir.path()).permissions() == fs::perms::owner_all));
    BOOST_TEST(fs::is_empty(dir.path()));  // the writability probe leaves nothing behind
}

BOOST_AUTO_TEST_CASE(env_var_is_used_unless_dir_given) {
    TempDir tmp;
    ::setenv(state_dir_env, tmp.sub("from-env").c_str(), 1);
    BOOST_TEST(StateDir::open(std::nullopt).path() == tmp.sub("from-env"));
    BOOST_TEST(StateDir::open(tmp.sub("explicit")).path() == tmp.sub("explicit"));
    ::unsetenv(state_dir_env);
    BOOST_TEST(fs::is_directory(tmp.sub("from-env")));
}

BOOST_AUTO_TEST_CASE(unusable_dirs_are_reported) {
    TempDir tmp;
    write_text(tmp.sub("file"), "x");
    expect_unknown([&] { StateDir::open(tmp.sub("file/sub")); },
                   {tmp.sub("file/sub"), "cannot create state directory", "Not a directory"});
    expect_unknown([&] { StateDir::open(tmp.sub("file")); }, {tmp.sub("file"), "Not a directory"});
    expect_unknown([&] { StateDir::open(std::string()); }, {"empty path"});
    // Root passes access(W_OK) on /proc but cannot create files there.
    expect_unknown([] { StateDir::open("/proc"); }, {"/proc: state directory is not writable"});
    if (::geteuid() != 0) {
        fs::create_directory(tmp.sub("ro"));
        ::chmod(tmp.sub("ro").c_str(), 0500);
        expect_unknown([&] { StateDir::open(tmp.sub("ro")); }, {"Permission denied"});
        ::chmod(tmp.sub("ro").c_str(), 0700);
    }
}

BOOST_AUTO_TEST_CASE(state_paths_are_safe_and_distinct) {
    TempDir tmp;
    StateDir dir = StateDir::open(tmp.path);
    std::string odd = dir.state_path("../../etc/passwd x\n=%");
    BOOST_TEST(odd.starts_with(tmp.path + "/"));
    std::string name = odd.substr(tmp.path.size() + 1);
    BOOST_TEST(name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789._-") ==
               std::string::npos);
    BOOST_TEST(name.ends_with(".state"));
    BOOST_TEST(name.front() != '.');
    BOOST_TEST(dir.state_path("a b") != dir.state_path("a_b"));
    BOOST_TEST(dir.state_path("a b") == dir.state_path("a b"));
    BOOST_TEST(dir.state_path("").ends_with(".state"));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(keys)

BOOST_AUTO_TEST_CASE(key_is_created_0600_and_stable) {
    TempDir tmp;
    StateDir dir = StateDir::open(tmp.path);
    std::string key = dir.load_or_create_key();
    BOOST_TEST(key.size() == 64u);
    BOOST_TEST(key.find_first_not_of("0123456789abcdef") == std::string::npos);
    struct stat info {};
    BOOST_REQUIRE(::stat(tmp.sub("probe.key").c_str(), &info) == 0);
    BOOST_TEST((info.st_mode & 07777) == 0600u);
    BOOST_TEST(read_text(tmp.sub("probe.key")) == key + "\n");
    BOOST_TEST(dir.load_or_create_key() == key);
    BOOST_TEST(StateDir::open(tmp.path).load_or_create_key() == key);
    // The file doubles as a --probe-secret-file.
    BOOST_TEST(key_file(tmp.sub("probe.key")) == key);
    BOOST_TEST(std::distance(fs::directory_iterator(tmp.path), {}) == 1);  // no temp files left
}

BOOST_AUTO_TEST_CASE(corrupt_key_is_not_replaced) {
    TempDir tmp;
    StateDir dir = StateDir::open(tmp.path);
    for (const std::string& bad :
         std::vector<std::string>{"abcd\n", "zz" + std::string(62, '0'), std::string(33, 'a')}) {
        write_text(tmp.sub("probe.key"), bad);
        expect_unknown([&] { dir.load_or_create_key(); },
                       {tmp.sub("probe.key"), "corrupt key file"});
        BOOST_TEST(read_text(tmp.sub("probe.key")) == bad);
    }
    write_text(tmp.sub("probe.key"), "");  // "is empty" (state::read_secret_file)
    BOOST_CHECK_THROW(dir.load_or_create_key(), UsageError);
    BOOST_TEST(read_text(tmp.sub("probe.key")).empty());
}

BOOST_AUTO_TEST_CASE(concurrent_first_use_agrees_on_one_key) {
    TempDir tmp;
    StateDir dir = StateDir::open(tmp.path);
    int gate[2];
    BOOST_REQUIRE(::pipe(gate) == 0);
    std::vector<pid_t> children;
    for (int i = 0; i < 8; ++i) {
        children.push_back(run_child([&, i] {
            ::close(gate[1]);
            char byte;
            (void)!::read(gate[0], &byte, 1);  // released together when the parent closes
            write_text(tmp.sub("out." + std::to_string(i)), dir.load_or_create_key());
            return 0;
        }));
    }
    ::close(gate[0]);
    ::close(gate[1]);
    for (pid_t pid : children) BOOST_TEST(wait_exit_code(pid) == 0);
    std::string key = read_text(tmp.sub("probe.key"));
    BOOST_REQUIRE(key.size() == 65u);
    key.pop_back();
    for (int i = 0; i < 8; ++i) BOOST_TEST(read_text(tmp.sub("out." + std::to_string(i))) == key);
}

BOOST_AUTO_TEST_CASE(secret_file_strips_trailing_newlines) {
    TempDir tmp;
    write_text(tmp.sub("k1"), "s3cret with space\r\n\n");
    BOOST_TEST(key_file(tmp.sub("k1")) == "s3cret with space");
    write_text(tmp.sub("k2"), "\n\n");
    // The reader's other rules: tests/unit/test_secret_file.cpp.
    BOOST_CHECK_THROW(key_file(tmp.sub("k2")), UsageError);
    BOOST_CHECK_THROW(key_file(tmp.sub("none")), UsageError);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(locked_state)

BOOST_AUTO_TEST_CASE(missing_file_gives_fresh_state_and_save_round_trips) {
    TempDir tmp;
    StateDir dir = StateDir::open(tmp.path);
    auto locked = LockedState::acquire(dir, "id=1 x", Deadline::after_seconds(1));
    CheckState fresh = locked.load();
    BOOST_TEST(fresh.identity == "id=1 x");
    BOOST_TEST(fresh.outstanding.empty());
    CheckState state = sample_state("id=1 x");
    locked.save(state);
    BOOST_TEST(locked.load() == state);
    BOOST_TEST(read_text(dir.state_path("id=1 x")) == serialize(state));
    expect_unknown([&] { locked.save(sample_state("other")); }, {"refusing to save"});
}

BOOST_AUTO_TEST_CASE(foreign_or_corrupt_file_is_never_overwritten) {
    TempDir tmp;
    StateDir dir = StateDir::open(tmp.path);
    std::string path = dir.state_path("b");
    write_text(path, serialize(sample_state("a")));
    auto locked = LockedState::acquire(dir, "b", Deadline::after_seconds(1));
    expect_unknown([&] { locked.load(); }, {path, "belongs to identity 'a', not 'b'"});
    expect_unknown([&] { locked.save(sample_state("b")); }, {path, "not overwriting"});
    BOOST_TEST(read_text(path) == serialize(sample_state("a")));

    write_text(path, "mailprobe-state 1\nidentity b\n");
    expect_unknown([&] { locked.load(); }, {path, "corrupt state file", "missing 'end'"});
    expect_unknown([&] { locked.save(sample_state("b")); }, {"not overwriting"});
}

BOOST_AUTO_TEST_CASE(second_process_waits_then_times_out) {
    TempDir tmp;
    StateDir dir = StateDir::open(tmp.path);
    auto held = LockedState::acquire(dir, "busy", Deadline::after_seconds(1));
    pid_t pid = run_child([&] {
        auto start = std::chrono::steady_clock::now();
        try {
            LockedState::acquire(dir, "busy", Deadline::after_seconds(0.5));
            return 1;
        } catch (const CheckFailure& failure) {
            std::chrono::duration<double> waited = std::chrono::steady_clock::now() - start;
            if (std::string(failure.what()).find("is locked by another run (waited 0.5 s)") ==
                std::string::npos)
                return 2;
            return waited.count() < 0.5 ? 3 : waited.count() > 0.5 + deadline_slack() ? 4 : 0;
        }
    });
    BOOST_TEST(wait_exit_code(pid) == 0);
    // A different identity is not blocked.
    LockedState::acquire(dir, "idle", Deadline::after_seconds(0));
}

BOOST_AUTO_TEST_CASE(waiter_gets_the_lock_once_released) {
    TempDir tmp;
    StateDir dir = StateDir::open(tmp.path);
    int ready[2];
    BOOST_REQUIRE(::pipe(ready) == 0);
    pid_t pid = run_child([&] {
        auto held = LockedState::acquire(dir, "x", Deadline::after_seconds(1));
        (void)!::write(ready[1], "r", 1);
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        return 0;
    });
    char byte;
    BOOST_REQUIRE(::read(ready[0], &byte, 1) == 1);
    auto start = std::chrono::steady_clock::now();
    LockedState::acquire(dir, "x", Deadline::after_seconds(3));
    std::chrono::duration<double> waited = std::chrono::steady_clock::now() - start;
    BOOST_TEST(waited.count() > 0.1);
    BOOST_TEST(waited.count() < 1.0 + deadline_slack());
    BOOST_TEST(wait_exit_code(pid) == 0);
    ::close(ready[0]);
    ::close(ready[1]);
}

BOOST_AUTO_TEST_CASE(sigkill_during_saves_never_leaves_a_partial_file) {
    TempDir tmp;
    StateDir dir = StateDir::open(tmp.path);
    std::mt19937 random(12345);
    std::uniform_int_distribution<int> delay_us(0, 15000);
    std::uint64_t last_seen = 0;
    int started[2];
    BOOST_REQUIRE(::pipe(started) == 0);
    for (int round = 0; round < 50; ++round) {
        pid_t pid = run_child([&]() -> int {
            auto locked = LockedState::acquire(dir, "crash test", Deadline::after_seconds(5));
            for (std::uint64_t i = locked.load().delivered_total + 1;; ++i) {
                locked.save(numbered_state(i));
                if (i == last_seen + 1) (void)!::write(started[1], "s", 1);
            }
        });
        // Kill only once saves are streaming, at a random point of one of them.
        char byte;
        BOOST_REQUIRE(::read(started[0], &byte, 1) == 1);
        std::this_thread::sleep_for(std::chrono::microseconds(delay_us(random)));
        ::kill(pid, SIGKILL);
        BOOST_REQUIRE(wait_exit_code(pid) == 128 + SIGKILL);

        auto locked = LockedState::acquire(dir, "crash test", Deadline::after_seconds(1));
        CheckState state = locked.load();
        BOOST_REQUIRE(state == numbered_state(state.delivered_total));
        BOOST_REQUIRE(state.delivered_total >= last_seen);  // a completed save is never lost
        last_seen = state.delivered_total;
    }
    BOOST_TEST(last_seen >= 50u);
    ::close(started[0]);
    ::close(started[1]);
    auto locked = LockedState::acquire(dir, "crash test", Deadline::after_seconds(1));
    locked.save(locked.load());
    for (const auto& entry : fs::directory_iterator(tmp.path))
        BOOST_TEST(entry.path().string().find(".tmp.") == std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
