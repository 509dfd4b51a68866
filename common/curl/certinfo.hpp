#pragma once
// --cert-days: when the server certificate expires, from libcurl's certificate chain
// (CURLOPT_CERTINFO, set by apply_endpoint; read with CURLINFO_CERTINFO after the
// handshake), and the WARN[,CRIT] days limits (cf. check_smtp -D).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "curl/easy.hpp"

namespace mailprobe::curl {

struct CertDays {
    int warning = 0;              // WARNING when fewer days than this are left
    std::optional<int> critical;  // CRITICAL when fewer days than this are left
};

// "30" or "30,14" (whole days, CRIT <= WARN). Throws UsageError naming the option.
CertDays parse_cert_days(std::string_view text);

struct CertExpiry {
    std::int64_t not_after = 0;  // Unix seconds
    std::string subject;         // of the server (leaf) certificate, as libcurl prints it
};

// "Expire date" as libcurl prints it: OpenSSL "Nov 27 17:32:05 2036 GMT" or
// "2036-11-27 17:32:05 GMT" (other TLS backends) -> Unix seconds.
std::optional<std::int64_t> parse_cert_date(std::string_view s);

// The server certificate's expiry after a transfer on `easy`; nullopt without TLS.
std::optional<CertExpiry> server_certificate(const Easy& easy);

// Whole days left until not_after (negative once expired), rounded down.
std::int64_t days_left(const CertExpiry& cert, std::int64_t now_unix);

}  // namespace mailprobe::curl
