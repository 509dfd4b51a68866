#pragma once
// The one result model: a check result holding sub-results, and how line 1 is composed from
// it (the way monitoring-plugins' mp_check/mp_subcheck compose theirs).
#include <string>
#include <string_view>
#include <vector>

#include "result/perfdata.hpp"
#include "result/status.hpp"

namespace mailprobe {

// How much -v a long-output line needs. The renderer drops lines above the run's -v count;
// checks say what a line is, never read -v themselves.
enum class Verbosity {
    always = 0,     // shown in every long output
    verbose = 1,    // -v: server replies, where bounces go, what became of the probe
    timings = 2,    // -vv: stage timings, how arrival was watched
    transcript = 3  // -vvv: the protocol transcript (secrets redacted)
};

struct Detail {
    // A plain text is a line of every long output.
    Detail(std::string line, Verbosity at = Verbosity::always)  // NOLINT(*-explicit-*)
        : text(std::move(line)), level(at) {}
    Detail(const char* line) : text(line) {}  // NOLINT(*-explicit-*)

    std::string text;
    Verbosity level = Verbosity::always;

    // A detail equals a text when its text does (whatever its level).
    friend bool operator==(const Detail& d, std::string_view line) { return d.text == line; }
};

struct CheckResult {
    Status status = Status::ok;  // this node's own state; see overall_status() for the tree's
    std::string summary;
    std::vector<Detail> details;  // long output lines
    std::vector<PerfDatum> perfdata;
    std::vector<CheckResult> children;
    // Line 1 (see line_summary): a headline child's summary joins it even when the child is
    // OK; a leading child's goes in front of its parent's own summary (an alert that explains
    // the parent's state), the others' behind it.
    bool headline = false;
    bool leads = false;

    CheckResult& add_child(CheckResult child) {
        children.push_back(std::move(child));
        return children.back();
    }
    void add_detail(std::string text, Verbosity level = Verbosity::always) {
        details.emplace_back(std::move(text), level);
    }
};

// The worst state anywhere in the tree (OK < WARNING < UNKNOWN < CRITICAL).
Status overall_status(const CheckResult& result);

// The text of line 1 for a result: the summaries of its leading children, its own summary,
// then the summaries of its other children, joined with "; ". A child is named there when
// its own state alerts (not OK) or it is headline, and then with its own children composed
// the same way; an OK child that is not headline is passed through: its alerting descendants
// still reach line 1, in its place. Children keep their order within each side.
// A node without a summary of its own is spoken for by its worst children (those whose
// overall state is the node's overall state), each composed as above; an all-OK node thus
// names all of its children.
std::string line_summary(const CheckResult& result);

}  // namespace mailprobe
