#pragma once
// Owns one POSIX file descriptor: closed when the owner goes, whatever path it leaves by.
#include <utility>

namespace mailprobe {

class UniqueFd {
public:
    UniqueFd() = default;
    explicit UniqueFd(int fd) noexcept : m_fd(fd) {}
    ~UniqueFd() { reset(); }
    UniqueFd(UniqueFd&& other) noexcept : m_fd(other.release()) {}
    UniqueFd& operator=(UniqueFd&& other) noexcept {
        if (this != &other) reset(other.release());
        return *this;
    }
    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;

    int get() const noexcept { return m_fd; }
    bool valid() const noexcept { return m_fd >= 0; }
    // Closes the descriptor held (if any) and takes `fd` instead.
    void reset(int fd = -1) noexcept;
    // Gives the descriptor up without closing it.
    [[nodiscard]] int release() noexcept { return std::exchange(m_fd, -1); }
    // Closes now and returns 0 or the errno of close(), which may carry a delayed write error.
    int close_checked() noexcept;

private:
    int m_fd = -1;
};

}  // namespace mailprobe
