#pragma once
// Parsing Received fields and rebuilding the relay path a message took, with per-hop delays.
// Input is untrusted: bad fields are skipped, never thrown on, and work is bounded.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "relay/headers.hpp"
#include "relay/tls.hpp"

namespace mailprobe::relay {

// Only the newest Received fields are looked at: they were written by the receiving side,
// which we trust more than whatever a sender put below them.
inline constexpr std::size_t max_received_fields = 100;

struct Received {
    std::string from;         // the "from" host/domain as written (first token), may be empty
    std::string from_detail;  // comments/words after it, e.g. "(localhost [127.0.0.1])"
    std::string by;           // the "by" host, may be empty (missing by)
    std::string by_detail;    // e.g. "(Postfix)" or "(8.15.2/8.15.2)"
    std::string via;          // the "via" link, rarely present
    std::string with;         // protocol: the first word after "with", e.g. ESMTPS, LMTP
    std::string with_detail;  // the rest of the with clause, e.g. "SMTP Server (version=...)"
    std::string id;           // queue id, angle brackets removed
    std::string for_addr;     // "for <x@y>" address without brackets, may be empty
    std::optional<std::int64_t> time;  // the date after the last ';' outside comments
    TlsInfo tls;                       // whether this hop was encrypted (relay/tls.hpp)
};

// One unfolded Received value -> its clauses; nullopt for empty/garbage (no clause, no date)
// or a value longer than max_field_bytes. The date is taken after the last top-level ';'; if
// that does not parse, up to three earlier ones are tried (trailing garbage with a ';').
std::optional<Received> parse_received(std::string_view unfolded_value);

// One hop of the rebuilt path, oldest first: the handover recorded by one Received field.
struct Hop {
    Received received;
    double delay_s = 0;   // time since the previous hop with a known time (0 for the first)
    bool skewed = false;  // the raw delay was negative (clock skew): delay_s is clamped to 0
    bool time_known = false;
};

// Received fields appear newest first in a header block; returns hops oldest first. At most
// max_received_fields fields are considered; unparsable ones are skipped.
std::vector<Hop> received_path(std::string_view header_block);

// A short human description: "a -> b (0.2 s) -> c (1.0 s)", for long plugin output.
// Host names are shortened and control characters and '|' (the perfdata separator) replaced.
std::string describe_path(const std::vector<Hop>& hops);

}  // namespace mailprobe::relay
