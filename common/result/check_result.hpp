#pragma once
// The one result model: a check result holding sub-results.
#include <string>
#include <vector>

#include "result/perfdata.hpp"
#include "result/status.hpp"

namespace mailprobe {

struct CheckResult {
    Status status = Status::ok;  // this node's own state; see overall_status() for the tree's
    std::string summary;
    std::vector<std::string> details;  // long output lines
    std::vector<PerfDatum> perfdata;
    std::vector<CheckResult> children;

    CheckResult& add_child(CheckResult child) {
        children.push_back(std::move(child));
        return children.back();
    }
};

// The worst state anywhere in the tree (OK < WARNING < UNKNOWN < CRITICAL).
Status overall_status(const CheckResult& result);

}  // namespace mailprobe
