#include "options/verdict_options.hpp"

#include <algorithm>

#include "core/error.hpp"
#include "relay/tls.hpp"

namespace mailprobe {
namespace {

bool has_control(const std::string& s) {
    return std::any_of(s.begin(), s.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return u < 0x20 || u == 0x7f;
    });
}

std::vector<std::string> auth_methods(const std::string& list) {
    std::vector<std::string> out;
    std::size_t pos = 0;
    while (pos <= list.size()) {
        const std::size_t comma = list.find(',', pos);
        std::string m =
            list.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
        std::transform(m.begin(), m.end(), m.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        if (m != "spf" && m != "dkim" && m != "dmarc" && m != "arc")
            throw UsageError("--require-auth: '" + m + "' is not one of spf, dkim, dmarc, arc");
        if (std::find(out.begin(), out.end(), m) == out.end()) out.push_back(m);
        if (comma == std::string::npos) break;
        pos = comma + 1;
    }
    return out;
}

}  // namespace

void add_verdict_options(OptionSet& o) {
    o.section("Delivery verdict options")
        .multi("authserv-id", 0, "ID",
               "Trust Authentication-Results fields written by this authserv-id (the receiving "
               "side's own, e.g. mx.example.org; repeatable). Without it only the topmost field "
               "is trusted")
        .value("require-auth", 0, "LIST",
               "Comma-separated methods (spf, dkim, dmarc, arc) that must pass; any other result "
               "is WARNING")
        .flag("require-auth-critical", 0, "A failed --require-auth method is CRITICAL")
        .flag("require-tls", 0,
              "Every network hop after the first must record TLS in its Received field; an "
              "unencrypted hop is WARNING")
        .flag("require-tls-critical", 0,
              "An unencrypted (or too old, see --min-tls-version) hop is CRITICAL")
        .value("min-tls-version", 0, "VERSION",
               "Lowest TLS version a hop after the first may record (1.0, 1.1, 1.2, 1.3); older is "
               "WARNING");
}

VerdictConfig verdict_config_from(const ParsedOptions& p) {
    VerdictConfig c;
    for (const auto& id : p.all("authserv-id")) {
        if (id.empty() || id.size() > 255 || has_control(id))
            throw UsageError("--authserv-id must be one line of 1 to 255 characters");
        c.authserv_ids.push_back(id);
    }
    if (auto list = p.get("require-auth")) {
        if (has_control(*list)) throw UsageError("--require-auth must be one line");
        c.require_auth = auth_methods(*list);
    }
    if (p.has("require-auth-critical")) c.auth_status = Status::critical;
    c.require_tls = p.has("require-tls") || p.has("require-tls-critical");
    if (p.has("require-tls-critical")) c.tls_status = Status::critical;
    if (auto v = p.get("min-tls-version")) {
        if (has_control(*v)) throw UsageError("--min-tls-version must be one line");
        const auto parsed = relay::parse_tls_version(*v);
        if (!parsed || *parsed < 10)
            throw UsageError("--min-tls-version: '" + *v + "' is not one of 1.0, 1.1, 1.2, 1.3");
        c.min_tls_version = parsed;
    }
    return c;
}

}  // namespace mailprobe
