#pragma once
// The one place that prints plugin output and decides the exit code.
#include <functional>
#include <string>

#include "options/option_set.hpp"
#include "result/check_result.hpp"

namespace mailprobe {

struct PluginSpec {
    std::string service;  // e.g. "MAIL SEND": first word of the status line
    OptionSet options;
};

using CheckFunction = std::function<CheckResult(const ParsedOptions&)>;

// Parses options, handles --help/--version, runs the check, catches every failure,
// prints the result to stdout and returns the exit code for main().
int run_plugin(const PluginSpec& spec, int argc, const char* const* argv,
               const CheckFunction& check);

}  // namespace mailprobe
