#pragma once
// Holds the run's deadline over a whole curl_easy_perform(). libcurl's own timeouts do not
// bound every wait: with libcurl 7.88 the wait for the SMTP end-of-data reply, and the QUIT
// after it, each take up to CURLOPT_SERVER_RESPONSE_TIMEOUT (whole seconds) on top of
// CURLOPT_TIMEOUT (curl issue #8555). The watchdog records the transfer's sockets and, once
// the deadline has passed, shuts them down, so that every wait inside libcurl ends at once.
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include "core/deadline.hpp"
#include "curl/easy.hpp"

namespace mailprobe::curl {

class Watchdog {
public:
    Watchdog() = default;
    ~Watchdog();
    Watchdog(const Watchdog&) = delete;
    Watchdog& operator=(const Watchdog&) = delete;

    // Records the sockets `easy` opens from now on. libcurl keeps the close callback for
    // the connection's lifetime: the watchdog must outlive the handle (declare it first).
    void attach(Easy& easy);

    // Watches while it exists: at the deadline, the recorded sockets are shut down.
    class Armed {
    public:
        Armed(Watchdog& dog, const Deadline& deadline);
        ~Armed();
        Armed(const Armed&) = delete;
        Armed& operator=(const Armed&) = delete;

    private:
        Watchdog& m_dog;
    };

    // True when the deadline passed while armed and the sockets were shut down.
    bool fired() const;

    // Shuts the recorded sockets down now, from inside a libcurl callback: libcurl's next
    // send fails, so nothing more goes out (used to stop before an unauthenticated MAIL FROM).
    void cut_now();

private:
    static int on_sockopt(void* self, curl_socket_t fd, curlsocktype purpose);
    static int on_close(void* self, curl_socket_t fd);
    void disarm();

    mutable std::mutex m_mutex;
    std::condition_variable m_cv;
    std::set<curl_socket_t> m_sockets;
    bool m_armed = false;
    bool m_fired = false;
    std::thread m_thread;
};

}  // namespace mailprobe::curl
