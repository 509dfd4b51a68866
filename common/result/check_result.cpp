#include "result/check_result.hpp"

namespace mailprobe {

Status overall_status(const CheckResult& result) {
    Status status = result.status;
    for (const auto& child : result.children) status = worst(status, overall_status(child));
    return status;
}

namespace {

struct Parts {
    std::vector<std::string> before;  // leading children, in front of the own summary
    std::vector<std::string> after;
};

void append(std::vector<std::string>& to, std::string text) {
    if (!text.empty()) to.push_back(std::move(text));
}

// What a child brings to its parent's line 1: its composed text when it speaks (its own
// state alerts, or it is headline), else whatever its own children bring.
void gather(const CheckResult& child, Parts& parts) {
    if (child.headline || child.status != Status::ok) {
        append(child.leads ? parts.before : parts.after, line_summary(child));
        return;
    }
    for (const auto& grandchild : child.children) gather(grandchild, parts);
}

std::string join(const std::vector<std::string>& parts) {
    std::string out;
    for (const auto& p : parts) out += (out.empty() ? "" : "; ") + p;
    return out;
}

}  // namespace

std::string line_summary(const CheckResult& result) {
    if (result.summary.empty()) {
        const Status overall = overall_status(result);
        std::vector<std::string> worst_children;
        for (const auto& c : result.children) {
            if (overall_status(c) == overall) append(worst_children, line_summary(c));
        }
        return join(worst_children);
    }
    Parts parts;
    for (const auto& c : result.children) gather(c, parts);
    parts.before.push_back(result.summary);
    parts.before.insert(parts.before.end(), parts.after.begin(), parts.after.end());
    return join(parts.before);
}

}  // namespace mailprobe
