#pragma once
// What an --async check remembers between runs, and its on-disk text form.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mailprobe::state {

// A probe that was sent and has not been found (or given up on) yet.
struct OutstandingProbe {
    std::string id;
    std::int64_t sent_ms = 0;  // unix time, milliseconds
    std::string via;           // free text, e.g. the submission server used

    bool operator==(const OutstandingProbe&) const = default;
};

struct LastDelivery {
    std::string id;
    std::int64_t sent_ms = 0;
    std::int64_t seen_ms = 0;
    std::int64_t delay_ms = 0;  // signed: clocks of sender and mailbox may disagree

    bool operator==(const LastDelivery&) const = default;
};

struct CheckState {
    std::string identity;
    std::vector<OutstandingProbe> outstanding;
    std::uint64_t delivered_total = 0;
    std::uint64_t lost_total = 0;
    std::optional<LastDelivery> last_delivery;

    bool operator==(const CheckState&) const = default;
};

// The current (and only readable) version of the file format.
inline constexpr int state_format_version = 1;

// Text form, version 1 (one record per line, values percent-escaped, see codec.cpp):
//   mailprobe-state 1
//   identity <text>
//   delivered_total <n>
//   lost_total <n>
//   last_delivery id=<text> sent=<ms> seen=<ms> delay_ms=<n>     (optional)
//   probe id=<text> sent=<ms> via=<text>                         (zero or more)
//   end
// The "end" line makes a truncated file detectable even when cut at a line boundary.
std::string serialize(const CheckState& state);

// Throws CheckFailure(unknown): "<path>: corrupt state file: line N: ..." or
// "<path>: unsupported state file version N ...". Does not check the identity.
CheckState parse(std::string_view text, const std::string& path_for_messages);

// Percent-encoding used for text values: '%', ' ', '=', control bytes and DEL become %XX;
// everything else (including UTF-8) is kept, so the file stays readable.
std::string escape_value(std::string_view raw);
// Inverse of escape_value(); std::nullopt on a malformed escape or a raw control byte.
std::optional<std::string> unescape_value(std::string_view escaped);

}  // namespace mailprobe::state
