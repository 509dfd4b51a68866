#include "curl/easy.hpp"

#include <mutex>

#include "result/failure.hpp"

namespace mailprobe::curl {

void check(CURLcode code, std::string_view what) {
    if (code != CURLE_OK) {
        throw unknown("libcurl: " + std::string(what) + ": " + curl_easy_strerror(code));
    }
}

Easy::Easy() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
    m_handle = curl_easy_init();
    if (!m_handle) throw unknown("libcurl: curl_easy_init failed");
    set(CURLOPT_ERRORBUFFER, m_error);
    set(CURLOPT_NOSIGNAL, 1L);  // timeouts without signals: we may run a second thread
}

Easy::~Easy() {
    if (m_handle) curl_easy_cleanup(m_handle);
}

long Easy::info_long(CURLINFO info) const {
    long value = 0;
    check(curl_easy_getinfo(m_handle, info, &value), "curl_easy_getinfo");
    return value;
}

double Easy::info_seconds(CURLINFO info) const {
    curl_off_t us = 0;
    check(curl_easy_getinfo(m_handle, info, &us), "curl_easy_getinfo");
    return static_cast<double>(us) / 1e6;
}

curl_socket_t Easy::active_socket() const {
    curl_socket_t sock = CURL_SOCKET_BAD;
    check(curl_easy_getinfo(m_handle, CURLINFO_ACTIVESOCKET, &sock), "curl_easy_getinfo");
    return sock;
}

void Slist::append(const std::string& item) {
    curl_slist* next = curl_slist_append(m_list, item.c_str());
    if (!next) throw unknown("libcurl: out of memory building a list");
    m_list = next;
}

}  // namespace mailprobe::curl
