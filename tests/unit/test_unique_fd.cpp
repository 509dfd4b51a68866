// UniqueFd (common/core/unique_fd.hpp): one owner per descriptor, closed exactly once.
// Whether a descriptor is open is asked of the kernel (fcntl F_GETFD), not of the object.
#define BOOST_TEST_MODULE unique_fd
#include "core/unique_fd.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <cerrno>
#include <utility>

using mailprobe::UniqueFd;

namespace {

bool is_open(int fd) {
    return ::fcntl(fd, F_GETFD) != -1 || errno != EBADF;
}

// A fresh descriptor of our own (/dev/null), for the object under test to own.
int open_null() {
    int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    BOOST_REQUIRE(fd >= 0);
    return fd;
}

}  // namespace

BOOST_AUTO_TEST_CASE(an_empty_one_holds_nothing) {
    UniqueFd fd;
    BOOST_TEST(!fd.valid());
    BOOST_TEST(fd.get() == -1);
    BOOST_TEST(fd.close_checked() == 0);
}

BOOST_AUTO_TEST_CASE(closes_its_descriptor_when_destroyed) {
    int raw = open_null();
    {
        UniqueFd fd(raw);
        BOOST_TEST(fd.valid());
        BOOST_TEST(fd.get() == raw);
        BOOST_TEST(is_open(raw));
    }
    BOOST_TEST(!is_open(raw));
}

BOOST_AUTO_TEST_CASE(moving_transfers_ownership) {
    int raw = open_null();
    UniqueFd first(raw);
    UniqueFd second(std::move(first));
    BOOST_TEST(
        !first.valid());  // NOLINT(bugprone-use-after-move): the moved-from state is the point
    BOOST_TEST(second.get() == raw);
    {
        UniqueFd third;
        third = std::move(second);
        BOOST_TEST(!second.valid());  // NOLINT(bugprone-use-after-move)
        BOOST_TEST(third.get() == raw);
        BOOST_TEST(is_open(raw));
    }
    BOOST_TEST(!is_open(raw));  // closed once, by the last owner
}

BOOST_AUTO_TEST_CASE(move_assignment_closes_what_the_target_held) {
    int old_raw = open_null();
    int new_raw = open_null();
    UniqueFd target(old_raw);
    target = UniqueFd(new_raw);
    BOOST_TEST(!is_open(old_raw));
    BOOST_TEST(target.get() == new_raw);
    BOOST_TEST(is_open(new_raw));
}

BOOST_AUTO_TEST_CASE(reset_closes_and_takes_the_new_descriptor) {
    int first = open_null();
    int second = open_null();
    UniqueFd fd(first);
    fd.reset(second);
    BOOST_TEST(!is_open(first));
    BOOST_TEST(fd.get() == second);
    fd.reset();
    BOOST_TEST(!is_open(second));
    BOOST_TEST(!fd.valid());
}

BOOST_AUTO_TEST_CASE(release_gives_up_the_descriptor_without_closing_it) {
    int raw = open_null();
    {
        UniqueFd fd(raw);
        BOOST_TEST(fd.release() == raw);
        BOOST_TEST(!fd.valid());
    }
    BOOST_TEST(is_open(raw));
    ::close(raw);
}

BOOST_AUTO_TEST_CASE(close_checked_closes_now_and_reports_success) {
    int raw = open_null();
    UniqueFd fd(raw);
    BOOST_TEST(fd.close_checked() == 0);
    BOOST_TEST(!fd.valid());
    BOOST_TEST(!is_open(raw));
}
