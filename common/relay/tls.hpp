#pragma once
// Whether one hop (one Received field) was encrypted, and with what, as far as the receiving
// MTA wrote it down: Postfix "(using TLSv1.3 with cipher ...)", Exim "(TLS1.3) tls CIPHER" or
// "(TLS1.2:CIPHER:256)", Exchange Online "(version=TLS1_2, cipher=...)", Gmail and sendmail
// "(version=TLS1_3 cipher=...)", and the RFC 3848 with-protocols ESMTPS/ESMTPSA/LMTPS/...
#include <optional>
#include <string>
#include <string_view>

namespace mailprobe::relay {

enum class Transport {
    unknown,  // nothing recorded either way (no "with" protocol, no TLS note)
    plain,    // an SMTP-family protocol without any sign of TLS
    tls,      // encrypted
    local,    // local handover (LMTP, pickup, "with local"): not a network hop
};

struct TlsInfo {
    Transport transport = Transport::unknown;
    std::optional<int> version;  // TLS 1.x as 10 + x (1.2 -> 12); SSLv3 -> 3; unknown: nullopt
    std::string cipher;          // as written, may be empty

    bool encrypted() const { return transport == Transport::tls; }
};

// `clauses` is the unfolded Received value without its date; `with` its with-protocol word.
TlsInfo detect_tls(std::string_view clauses, std::string_view with);

// "TLSv1.3", "SSLv3", or "" when the version is unknown.
std::string tls_version_name(const std::optional<int>& version);
// "1.2" / "TLSv1.2" / "TLS1_2" / "tls1.3" -> 12, 13; nullopt for anything else.
std::optional<int> parse_tls_version(std::string_view text);

// "TLSv1.3 TLS_AES_256_GCM_SHA384", "TLS", "no TLS", "local", "TLS unknown".
std::string describe_tls(const TlsInfo& tls);

}  // namespace mailprobe::relay
