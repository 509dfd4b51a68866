#include "checks/relay.hpp"

#include <fnmatch.h>

#include <algorithm>
#include <cstdio>

#include "core/duration.hpp"
#include "result/perfdata.hpp"

namespace mailprobe::checks {

void RelayConfig::declare(OptionSet& o) {
    RoundTripConfig::declare(o);
    o.section("Relay options")
        .multi("expect-hop", 0, "PATTERN",
               "A host the probe must pass, in order (shell wildcards; plain text matches part "
               "of the receiving host's name)")
        .value("hop-warning", 0, "RANGE", "Warning threshold on any single hop's delay (s)")
        .value("hop-critical", 0, "RANGE", "Critical threshold on any single hop's delay (s)");
}

RelayConfig RelayConfig::from(const ParsedOptions& p) {
    RelayConfig c;
    c.roundtrip = RoundTripConfig::from(p);
    c.expect_hops = p.all("expect-hop");
    if (auto w = p.get("hop-warning")) c.hop_thresholds.warning = Range::parse(*w);
    if (auto cr = p.get("hop-critical")) c.hop_thresholds.critical = Range::parse(*cr);
    return c;
}

bool hop_matches(const relay::Hop& hop, const std::string& pattern) {
    std::string lower_host = hop.received.by, lower_pat = pattern;
    for (auto* s : {&lower_host, &lower_pat}) {
        std::transform(s->begin(), s->end(), s->begin(),
                       [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
    }
    if (lower_pat.find_first_of("*?[") == std::string::npos) {
        return !lower_pat.empty() && lower_host.find(lower_pat) != std::string::npos;
    }
    return ::fnmatch(lower_pat.c_str(), lower_host.c_str(), 0) == 0;
}

namespace {

std::string hop_line(std::size_t n, const relay::Hop& hop, double delay) {
    const auto& r = hop.received;
    std::string line = "hop " + std::to_string(n) + ": " + (r.from.empty() ? "?" : r.from) +
                       " -> " + (r.by.empty() ? "?" : r.by);
    if (!r.with.empty()) line += " with " + r.with;
    line += hop.time_known ? ", " + human_duration(delay) : ", time unknown";
    if (hop.skewed) line += " (clock skew: negative delay shown as 0)";
    return line;
}

// Index of the first expected pattern not found in order, or -1.
int missing_hop(const std::vector<relay::Hop>& hops, const std::vector<std::string>& expect) {
    std::size_t at = 0;
    for (std::size_t i = 0; i < expect.size(); ++i) {
        while (at < hops.size() && !hop_matches(hops[at], expect[i])) ++at;
        if (at == hops.size()) return static_cast<int>(i);
        ++at;
    }
    return -1;
}

}  // namespace

CheckResult hops_result(const std::vector<relay::Hop>& hops, std::int64_t sent_ms,
                        const std::vector<std::string>& expect, const Thresholds& thresholds) {
    CheckResult r;
    const std::string path =
        hops.empty() ? std::string("no Received fields") : relay::describe_path(hops);
    r.summary = "path: " + path;
    std::string slowest;  // the worst alerting hop, named on line 1
    double slowest_delay = -1;
    Status slowest_status = Status::ok;
    for (std::size_t i = 0; i < hops.size(); ++i) {
        relay::Hop hop = hops[i];
        double delay = hop.delay_s;
        if (i == 0 && hop.time_known && hop.received.time) {
            // Received dates have whole seconds: compare with the send time on that scale.
            std::int64_t sent_s = sent_ms / 1000;
            double raw = static_cast<double>(*hop.received.time - sent_s);
            hop.skewed = raw < 0;
            delay = std::max(0.0, raw);
        }
        Status s = hop.time_known ? thresholds.evaluate(delay) : Status::ok;
        r.status = worst(r.status, s);
        if (s != Status::ok && (worst(s, slowest_status) != slowest_status ||
                                (s == slowest_status && delay > slowest_delay))) {
            const auto& by = hop.received.by.empty() ? hop.received.from : hop.received.by;
            char took[32];
            std::snprintf(took, sizeof took, "%.1f", delay);
            slowest = "hop " + std::to_string(i + 1) + " " + (by.empty() ? "?" : by) + " took " +
                      took + " s";
            slowest_delay = delay;
            slowest_status = s;
        }
        r.add_detail(hop_line(i + 1, hop, delay) +
                     (s == Status::ok ? "" : " [" + std::string(status_name(s)) + "]"));
        PerfDatum d = seconds_datum("hop" + std::to_string(i + 1) + "_delay", delay, &thresholds);
        if (hop.time_known) r.perfdata.push_back(d);
    }
    if (!slowest.empty()) r.summary = slowest + "; " + r.summary;
    int missing = missing_hop(hops, expect);
    if (missing >= 0) {
        r.status = Status::critical;
        r.summary = "expected hop " + std::to_string(missing + 1) + " '" +
                    expect[static_cast<std::size_t>(missing)] + "' missing; path was: " + path;
    }
    return r;
}

namespace {

// The path of the delivered probe is what a relay check is about: its sub-result comes first
// and leads, so that a slow or missing hop is named first on line 1.
void add_path(CheckResult& result, const RelayConfig& c, const std::string& header,
              std::int64_t sent_ms) {
    CheckResult path =
        hops_result(relay::received_path(header), sent_ms, c.expect_hops, c.hop_thresholds);
    path.leads = true;
    result.children.insert(result.children.begin(), std::move(path));
}

}  // namespace

CheckResult run_relay(const RelayConfig& c) {
    if (c.roundtrip.async.enabled) {
        auto out = run_roundtrip_async(c.roundtrip);
        if (out.delivered_header)
            add_path(out.result, c, *out.delivered_header, out.delivered_sent_ms);
        return out.result;
    }
    Deadline deadline = Deadline::for_timeout(c.roundtrip.standard.timeout_s);
    auto run = execute_roundtrip(c.roundtrip, deadline);
    CheckResult result = roundtrip_result(c.roundtrip, run, deadline);
    if (run.arrival) add_path(result, c, run.arrival->found.header, run.probe.sent_ms);
    return result;
}

}  // namespace mailprobe::checks
