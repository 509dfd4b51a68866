#pragma once
// The probe: a uniquely identified message whose X-Mailprobe header carries an HMAC tag
// over (probe name, id, send time). Only a message whose tag verifies with our key and
// our probe name is ever treated as ours, i.e. counted or deleted.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mailprobe::probe {

inline constexpr std::string_view k_header = "X-Mailprobe";

// Who the probe belongs to: a check identity (probe name) and the shared HMAC key.
struct Identity {
    std::string name;
    std::string key;
    // Short digest of the name: what the mailbox is searched for (no name characters in
    // IMAP SEARCH strings, and names of other checks cannot be read off the header).
    std::string name_digest() const;
};

struct Probe {
    std::string id;  // 32 hex characters, random
    std::string name_digest;
    std::int64_t sent_ms = 0;  // Unix time in milliseconds
    std::string tag;           // hex HMAC-SHA256

    // The X-Mailprobe header value: "v=1; n=<digest>; id=<id>; t=<ms>; tag=<hex>"
    std::string header_value() const;
};

// A fresh probe for this identity, sent "now" (Unix ms).
Probe make_probe(const Identity& identity, std::int64_t now_ms);
std::string compute_tag(const Identity& identity, std::string_view id, std::int64_t sent_ms);

// Parses an X-Mailprobe header value; nullopt when it is not of our format.
std::optional<Probe> parse_header_value(std::string_view value);
// True only when the tag is the HMAC of our identity over the probe's id and time.
bool verify(const Identity& identity, const Probe& probe);

struct MessageFields {
    std::string from;
    std::vector<std::string> to;
    std::string subject_prefix = "mailprobe";
    std::string hostname;  // Message-ID domain and the body's "sent from"
    std::string via;       // how it is sent, for the body
};

// A complete RFC 5322 message with CRLF line endings.
std::string build_message(const Probe& probe, const std::string& probe_name,
                          const MessageFields& fields);

// RFC 5322 date-time in UTC for a Unix time in milliseconds.
std::string rfc5322_date(std::int64_t unix_ms);
std::int64_t unix_now_ms();
std::string random_hex(std::size_t bytes);

}  // namespace mailprobe::probe
