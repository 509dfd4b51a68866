#pragma once
// Turns a check result into plugin output: the status line, long output, perfdata.
#include <string>
#include <string_view>

#include "result/check_result.hpp"

namespace mailprobe {

struct RenderOptions {
    std::size_t max_bytes = 8000;  // Nagios reads 8 KiB of plugin output
    bool json = false;             // one JSON object (Zabbix external checks)
    int verbosity = 0;             // -v count: long-output lines up to this level are shown
};

// "SERVICE STATE - summary | perfdata" then long output lines, LF endings, secrets scrubbed.
// The summary is line_summary(result); details above options.verbosity are left out.
std::string render(std::string_view service, const CheckResult& result,
                   const RenderOptions& options = {});

}  // namespace mailprobe
