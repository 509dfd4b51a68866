#include "options/standard.hpp"

#include <cctype>
#include <cstdlib>

#include "core/error.hpp"
#include "core/secrets.hpp"
#include "state/secret_file.hpp"

namespace mailprobe {

namespace {
constexpr const char* k_default_output = "nagios";
}  // namespace

void add_standard_options(OptionSet& o, const StandardDefaults& d) {
    o.section("General options")
        .flag("help", 'h', "Print this help and exit")
        .flag("version", 'V', "Print the version and exit")
        .value("timeout", 't', "SECONDS",
               "Hard deadline for the whole run; every network stage gets the time that is left",
               std::to_string(static_cast<int>(d.timeout_s)))
        .flag("verbose", 'v',
              "More detail; -vv adds stage timings, -vvv the protocol transcript (secrets "
              "redacted)")
        .value("warning", 'w', "RANGE", "Warning threshold on the " + d.threshold_help, d.warning)
        .value("critical", 'c', "RANGE", "Critical threshold on the " + d.threshold_help,
               d.critical)
        .value("output", 0, "FORMAT",
               "Output format: nagios (status line, long output) or json (one JSON object, "
               "for Zabbix external checks)",
               k_default_output);
}

StandardConfig standard_config(const ParsedOptions& p, const StandardDefaults& d) {
    StandardConfig c;
    c.timeout_s = p.seconds("timeout").value_or(d.timeout_s);
    auto w = p.get_or("warning", d.warning);
    auto cr = p.get_or("critical", d.critical);
    if (!w.empty()) c.thresholds.warning = Range::parse(w);
    if (!cr.empty()) c.thresholds.critical = Range::parse(cr);
    return c;
}

OutputFormat parse_output_format(const ParsedOptions& p) {
    const std::string format = p.get_or("output", k_default_output);
    if (format == "nagios") return OutputFormat::nagios;
    if (format == "json") return OutputFormat::json;
    throw UsageError("--output: '" + format + "' is not one of nagios, json");
}

void add_secret_options(OptionSet& o, const std::string& name, const std::string& env,
                        const std::string& what) {
    o.value(name + "-file", 0, "FILE",
            "Read the " + what +
                " from FILE (one line, at most 64 KiB; keep it mode 0600). Or "
                "set " +
                env)
        .value(name, 0, "TEXT",
               "The " + what + " itself; visible in the process list, for quick tests only");
}

std::string sasl_mechanism(const std::string& option, const std::string& text) {
    static const char* known[] = {"PLAIN",  "LOGIN",    "CRAM-MD5",    "DIGEST-MD5", "NTLM",
                                  "GSSAPI", "EXTERNAL", "OAUTHBEARER", "XOAUTH2"};
    std::string upper = text;
    for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    std::string list;
    for (const char* k : known) {
        if (upper == k) return upper;
        list += (list.empty() ? "" : ", ") + std::string(k);
    }
    throw UsageError("--" + option + ": '" + text +
                     "' is not a SASL mechanism mailprobe can use (" + list + ")");
}

std::optional<std::string> read_secret(const ParsedOptions& p, const std::string& name,
                                       const std::string& env, std::vector<std::string>& warnings) {
    std::optional<std::string> secret;
    std::string source;
    if (auto file = p.get(name + "-file")) {
        secret = state::read_named_secret(*file, state::secret_file_what, state::Ownership::any,
                                          state::Layout::line, warnings);
    } else if (auto inline_value = p.get(name)) {
        secret = *inline_value;
        source = "--" + name;
    } else if (const char* value = std::getenv(env.c_str()); value && *value) {
        secret = value;
        source = env;
    }
    if (!secret) return secret;
    // Files were checked by their reader; the same rules for the other sources.
    if (!source.empty()) {
        if (secret->size() > state::max_secret_bytes) {
            throw UsageError(source + ": the value is too large (over " +
                             std::to_string(state::max_secret_bytes / 1024) + " KiB)");
        }
        require_one_line(source, *secret);
    }
    secrets::register_secret(*secret);
    return secret;
}

}  // namespace mailprobe
