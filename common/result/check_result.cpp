#include "result/check_result.hpp"

namespace mailprobe {

Status overall_status(const CheckResult& result) {
    Status status = result.status;
    for (const auto& child : result.children) status = worst(status, overall_status(child));
    return status;
}

}  // namespace mailprobe
