#pragma once
// Authentication-Results (RFC 8601) and ARC-Authentication-Results (RFC 8617) fields: what the
// receiving side concluded about SPF, DKIM, DMARC and ARC for the delivered probe. Input is
// untrusted mail: malformed parts are skipped, never thrown on, and work is bounded.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mailprobe::verdict {

// Fields beyond this many (newest first) are not looked at; results per field likewise.
inline constexpr std::size_t max_auth_fields = 50;
inline constexpr std::size_t max_results_per_field = 50;

struct Property {
    std::string name;   // "header.d", "smtp.mailfrom", or a bare key ("action", "x-bits")
    std::string value;  // quotes removed
};

struct MethodResult {
    std::string method;   // lower case, version dropped: "spf", "dkim", "dmarc", "compauth"
    std::string result;   // lower case: "pass", "fail", "softfail", "none", ...
    std::string reason;   // reason= value, or Microsoft's compauth reason code
    std::string comment;  // the first comment after the result, without parentheses
    std::vector<Property> properties;

    // The value of a property (case-insensitive name), empty when absent.
    std::string property(std::string_view name) const;
};

struct AuthResults {
    std::string authserv_id;  // empty when the field has none (Microsoft 365)
    bool arc = false;         // an ARC-Authentication-Results field
    int arc_instance = 0;     // its i= (0 when absent)
    std::vector<MethodResult> results;
};

// One unfolded field value -> its parts; nullopt for a value with neither an authserv-id nor
// any result, or longer than relay::max_field_bytes. `arc` expects the leading "i=N;".
std::optional<AuthResults> parse_auth_results(std::string_view unfolded_value, bool arc = false);

// All Authentication-Results fields of a header block, topmost (newest) first, then all
// ARC-Authentication-Results fields likewise; unparsable fields are skipped.
std::vector<AuthResults> auth_results_fields(std::string_view header_block);

// What one method came to, as far as the trusted fields say.
struct MethodVerdict {
    std::string method;       // "spf", "dkim", "dmarc", "arc"
    std::string result;       // "pass", "fail", ... ; "absent" when no trusted field has it
    std::string explanation;  // reason= or the comment after the result, may be empty
    std::string authserv_id;  // who said so (empty: a field without authserv-id)
    bool pass() const { return result == "pass"; }
    bool present() const { return result != "absent"; }
};

struct AuthVerdicts {
    std::vector<MethodVerdict> methods;  // spf, dkim, dmarc, arc in this order
    bool topmost_only = false;           // no --authserv-id: only the topmost field trusted
    std::size_t fields_seen = 0;         // Authentication-Results fields in the header
    std::size_t fields_trusted = 0;

    const MethodVerdict& get(std::string_view method) const;  // one of the four above
};

// Trust: with authserv_ids, every Authentication-Results field whose authserv-id is one of
// them (case-insensitive); without, only the topmost field. Forged fields added earlier in
// the path (lower down) are thereby ignored. Per method the topmost trusted field that has it
// decides; within that field a pass of any of its results counts (several DKIM signatures).
AuthVerdicts evaluate_auth(std::string_view header_block,
                           const std::vector<std::string>& authserv_ids);

// "DKIM fail (body hash did not verify) at mx.example.org"; control bytes and '|' replaced.
std::string describe(const MethodVerdict& verdict);

}  // namespace mailprobe::verdict
