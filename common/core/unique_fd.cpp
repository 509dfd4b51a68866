#include "core/unique_fd.hpp"

#include <unistd.h>

#include <cerrno>

namespace mailprobe {

void UniqueFd::reset(int fd) noexcept {
    // Linux releases the descriptor even when close() fails, so it is never retried.
    if (m_fd >= 0 && m_fd != fd) ::close(m_fd);
    m_fd = fd;
}

int UniqueFd::close_checked() noexcept {
    int fd = release();
    if (fd >= 0 && ::close(fd) != 0 && errno != EINTR) return errno;
    return 0;
}

}  // namespace mailprobe
