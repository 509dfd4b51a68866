#pragma once
// The probe: a uniquely identified message whose X-Mailprobe header carries an HMAC tag
// over the probe name, id and send time and over the message itself: the canonical
// Message-ID, Subject and Date fields and our body text (probe/canonical.hpp). Only a
// message against which the tag verifies, with our key and our probe name, is ever
// treated as ours, i.e. counted or deleted; a copy of the header in another message is not.
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
    std::int64_t sent_ms = 0;     // Unix time in milliseconds
    std::size_t body_length = 0;  // canonical bytes of our body text the tag covers
    std::string tag;              // hex HMAC-SHA256

    // The X-Mailprobe header value: "v=2; n=<digest>; id=<id>; t=<ms>; l=<length>; tag=<hex>"
    std::string header_value() const;
};

// Our body text is at most this long (canonical bytes); a header claiming more is not ours.
inline constexpr std::size_t k_max_body_length = 4096;

// Parses an X-Mailprobe header value; nullopt when it is not of our (v=2) format. Probes
// of the old v=1 format, whose tag did not cover the message, are never ours again.
std::optional<Probe> parse_header_value(std::string_view value);

// The tag of `probe` (its id, time and body length) for `message`; nullopt when the
// message lacks a part the tag covers (one Message-ID, Subject and Date field each, and
// at least body_length canonical body bytes).
std::optional<std::string> compute_tag(const Identity& identity, const Probe& probe,
                                       std::string_view message);

// The probe of this identity whose tag verifies against the message as fetched (its
// header and at least the start of its body, CRLF or LF); nullopt for anything else.
std::optional<Probe> verify_message(const Identity& identity, std::string_view message);

// True when the header block carries an X-Mailprobe field of our format and probe name:
// worth fetching the body to verify. Never enough to act on.
bool candidate_header(const Identity& identity, std::string_view header);

struct MessageFields {
    std::string from;
    std::vector<std::string> to;
    std::string subject_prefix = "mailprobe";
    std::string hostname;  // Message-ID domain and the body's "sent from"
    std::string via;       // how it is sent, for the body
};

struct ProbeMessage {
    Probe probe;
    std::string text;  // a complete RFC 5322 message with CRLF line endings
};

// A fresh probe of this identity sent at now_ms (Unix ms), as the message to send.
ProbeMessage make_probe_message(const Identity& identity, std::int64_t now_ms,
                                const MessageFields& fields);

// RFC 5322 date-time in UTC for a Unix time in milliseconds.
std::string rfc5322_date(std::int64_t unix_ms);
std::int64_t unix_now_ms();
std::string random_hex(std::size_t bytes);

}  // namespace mailprobe::probe
