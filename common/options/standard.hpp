#pragma once
// The options every plugin shares (-h -V -t -v -w -c, --output), secret inputs and SASL
// mechanism names.
#include <optional>
#include <string>
#include <vector>

#include "options/option_set.hpp"
#include "result/range.hpp"

namespace mailprobe {

struct StandardDefaults {
    double timeout_s = 20;
    std::string warning;   // default range text, may be empty
    std::string critical;  // default range text, may be empty
    std::string threshold_help = "total time in seconds";
};

void add_standard_options(OptionSet& options, const StandardDefaults& defaults);

struct StandardConfig {
    double timeout_s = 20;
    Thresholds thresholds;
};

StandardConfig standard_config(const ParsedOptions& parsed, const StandardDefaults& defaults);

// --output: how the runner prints the result. A run-wide setting the runner alone reads;
// checks build the same result tree whatever the format. Unknown names -> UsageError.
enum class OutputFormat { nagios, json };
OutputFormat parse_output_format(const ParsedOptions& parsed);

// "--NAME-file FILE", "--NAME TEXT" (discouraged) and the environment variable ENV, for a
// NAME such as "smtp-password".
void add_secret_options(OptionSet& options, const std::string& name, const std::string& env,
                        const std::string& what);

// Reads a secret given through add_secret_options(): file first (state::read_named_secret(),
// which notes a file others may read), then inline, then the environment. Registers it for
// scrubbing. Whatever the source: one line without NUL, at most 64 KiB, else UsageError.
std::optional<std::string> read_secret(const ParsedOptions& parsed, const std::string& name,
                                       const std::string& env, std::vector<std::string>& warnings);

// A SASL mechanism for --*-auth-mech, upper-cased (libcurl 7.88 knows only that spelling and
// calls any other name a malformed URL); one libcurl cannot speak -> UsageError naming those
// it can.
std::string sasl_mechanism(const std::string& option, const std::string& text);

}  // namespace mailprobe
