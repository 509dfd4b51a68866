#include "curl/watchdog.hpp"

#include <sys/socket.h>
#include <unistd.h>

namespace mailprobe::curl {

Watchdog::~Watchdog() {
    disarm();
}

void Watchdog::attach(Easy& easy) {
    easy.set(CURLOPT_SOCKOPTFUNCTION, on_sockopt);
    easy.set(CURLOPT_SOCKOPTDATA, static_cast<void*>(this));
    easy.set(CURLOPT_CLOSESOCKETFUNCTION, on_close);
    easy.set(CURLOPT_CLOSESOCKETDATA, static_cast<void*>(this));
}

int Watchdog::on_sockopt(void* self, curl_socket_t fd, curlsocktype) {
    auto* dog = static_cast<Watchdog*>(self);
    std::lock_guard lock(dog->m_mutex);
    dog->m_sockets.insert(fd);
    return CURL_SOCKOPT_OK;
}

int Watchdog::on_close(void* self, curl_socket_t fd) {
    auto* dog = static_cast<Watchdog*>(self);
    // Under the lock: the watchdog never shuts down a number that is already reused.
    std::lock_guard lock(dog->m_mutex);
    dog->m_sockets.erase(fd);
    return ::close(fd);
}

Watchdog::Armed::Armed(Watchdog& dog, const Deadline& deadline) : m_dog(dog) {
    dog.disarm();
    std::lock_guard guard(dog.m_mutex);
    dog.m_armed = true;
    dog.m_thread = std::thread([&dog, end = deadline.end()] {
        std::unique_lock lock(dog.m_mutex);
        if (dog.m_cv.wait_until(lock, end, [&] { return !dog.m_armed; })) return;
        dog.m_fired = true;
        for (curl_socket_t fd : dog.m_sockets) ::shutdown(fd, SHUT_RDWR);
    });
}

Watchdog::Armed::~Armed() {
    m_dog.disarm();
}

void Watchdog::disarm() {
    {
        std::lock_guard lock(m_mutex);
        m_armed = false;
    }
    m_cv.notify_all();
    if (m_thread.joinable()) m_thread.join();
}

void Watchdog::cut_now() {
    std::lock_guard lock(m_mutex);
    for (curl_socket_t fd : m_sockets) ::shutdown(fd, SHUT_RDWR);
}

bool Watchdog::fired() const {
    std::lock_guard lock(m_mutex);
    return m_fired;
}

}  // namespace mailprobe::curl
