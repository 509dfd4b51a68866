#include "checks/verdicts.hpp"

#include <algorithm>

#include "result/perfdata.hpp"

namespace mailprobe::checks {
namespace {

std::string hop_name(const relay::Hop& hop) {
    const auto& r = hop.received;
    return (r.from.empty() ? std::string("?") : r.from) + " -> " +
           (r.by.empty() ? std::string("?") : r.by);
}

// What is wrong with a network hop after the first under the config; "" when nothing.
std::string tls_problem(const relay::TlsInfo& tls, const VerdictConfig& config) {
    if (config.require_tls && tls.transport == relay::Transport::plain) return "without TLS";
    if (config.min_tls_version && tls.version && *tls.version < *config.min_tls_version) {
        return "with " + relay::tls_version_name(tls.version) + " (below " +
               relay::tls_version_name(config.min_tls_version) + ")";
    }
    return {};
}

}  // namespace

CheckResult auth_result(const verdict::AuthVerdicts& v, const VerdictConfig& config) {
    CheckResult r;
    std::vector<std::string> parts;
    std::string failed;
    for (const auto& m : v.methods) {
        const bool required = std::find(config.require_auth.begin(), config.require_auth.end(),
                                        m.method) != config.require_auth.end();
        if (m.present() || required || m.method != "arc") parts.push_back(verdict::describe(m));
        if (required && !m.pass()) {
            r.status = config.auth_status;
            if (failed.empty()) failed = verdict::describe(m);
        }
        if (m.method != "arc")
            r.perfdata.push_back(count_datum("auth_" + m.method, m.pass() ? 1 : 0));
    }
    std::string joined;
    for (const auto& p : parts) joined += (joined.empty() ? "" : ", ") + p;
    r.summary = failed.empty() ? "auth: " + joined : failed;
    if (!failed.empty()) r.add_detail("auth: " + joined);
    if (v.fields_seen == 0) {
        r.details.emplace_back("the probe carries no Authentication-Results field");
    } else if (v.topmost_only) {
        r.add_detail("only the topmost of " + std::to_string(v.fields_seen) +
                     " Authentication-Results field(s) is trusted (no --authserv-id)");
    } else {
        r.add_detail(std::to_string(v.fields_trusted) + " of " + std::to_string(v.fields_seen) +
                     " Authentication-Results field(s) written by a --authserv-id");
    }
    return r;
}

CheckResult tls_result(const std::vector<relay::Hop>& hops, const VerdictConfig& config) {
    CheckResult r;
    int without = 0;
    std::string first_problem;
    for (std::size_t i = 0; i < hops.size(); ++i) {
        const auto& tls = hops[i].received.tls;
        std::string line = "tls hop " + std::to_string(i + 1) + ": " + hop_name(hops[i]) + ": " +
                           relay::describe_tls(tls);
        if (i > 0 && tls.transport == relay::Transport::plain) ++without;
        const std::string problem = i > 0 ? tls_problem(tls, config) : std::string();
        if (!problem.empty()) {
            r.status = config.tls_status;
            line += " [" + std::string(status_name(config.tls_status)) + "]";
            if (first_problem.empty())
                first_problem =
                    "hop " + std::to_string(i + 1) + " (" + hop_name(hops[i]) + ") " + problem;
        }
        r.add_detail(line);
    }
    r.perfdata.push_back(count_datum("hops_without_tls", without));
    if (!first_problem.empty()) {
        r.summary = first_problem;
    } else if (hops.size() < 2) {
        r.summary = "tls: no relayed hop recorded";
    } else {
        r.summary = without == 0 ? "tls: no unencrypted network hop after the first"
                                 : "tls: " + std::to_string(without) + " hop(s) without TLS";
    }
    return r;
}

void add_delivery_verdicts(CheckResult& parent, const std::string& header,
                           const VerdictConfig& config) {
    if (header.empty()) {
        parent.details.emplace_back(
            "no header of the delivered probe: no SPF/DKIM/DMARC or TLS verdicts");
        return;
    }
    // A failed verdict leads line 1: it is why a delivered probe is not OK.
    parent.add_child(auth_result(verdict::evaluate_auth(header, config.authserv_ids), config))
        .leads = true;
    parent.add_child(tls_result(relay::received_path(header), config)).leads = true;
}

}  // namespace mailprobe::checks
