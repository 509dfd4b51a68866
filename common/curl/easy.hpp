#pragma once
// RAII for libcurl handles; every set-up and info call's CURLcode goes through check().
#include <curl/curl.h>

#include <string>
#include <string_view>
#include <vector>

namespace mailprobe::curl {

// Throws CheckFailure(UNKNOWN) naming what failed when code is not CURLE_OK. Used for
// set-up and info calls; transfer results are classified by transfer_failure()
// (curl/connection.hpp).
void check(CURLcode code, std::string_view what);

class Easy {
public:
    Easy();
    ~Easy();
    Easy(const Easy&) = delete;
    Easy& operator=(const Easy&) = delete;
    // Not movable: libcurl keeps a pointer to m_error (CURLOPT_ERRORBUFFER).
    Easy(Easy&&) = delete;
    Easy& operator=(Easy&&) = delete;

    template <typename T>
    void set(CURLoption option, T value) {
        check(curl_easy_setopt(m_handle, option, value), "curl_easy_setopt");
    }
    void set(CURLoption option, const std::string& value) { set(option, value.c_str()); }

    long info_long(CURLINFO info) const;
    double info_seconds(CURLINFO info) const;  // from a *_TIME_T info (microseconds)
    curl_socket_t active_socket() const;
    CURL* get() const { return m_handle; }
    // The libcurl error buffer text of the last transfer (may be empty).
    std::string error_text() const { return m_error; }

private:
    CURL* m_handle;
    char m_error[CURL_ERROR_SIZE + 1] = {};
};

class Slist {
public:
    Slist() = default;
    ~Slist() { curl_slist_free_all(m_list); }
    Slist(const Slist&) = delete;
    Slist& operator=(const Slist&) = delete;
    void append(const std::string& item);
    curl_slist* get() const { return m_list; }

private:
    curl_slist* m_list = nullptr;
};

}  // namespace mailprobe::curl
