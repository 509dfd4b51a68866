#pragma once
// Option declarations: one table per plugin feeds Boost.ProgramOptions, --help and the
// man page generator, so the three cannot drift apart.
#include <boost/program_options.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mailprobe {

struct OptionSpec {
    std::string long_name;
    char short_name = 0;
    std::string value_name;  // empty: a flag
    std::string help;
    // Shown in --help and the man page. Made from the config's default constant, which the
    // parser falls back to, so that the two cannot differ.
    std::string default_text;
    bool repeatable = false;
    std::string section;               // heading in --help and the man page
    std::vector<std::string> aliases;  // more long names, e.g. "hostname" for smtp-host
};

class ParsedOptions;

// CR, LF or NUL in a value would end a protocol line early and smuggle a second command to
// the server (a folder "INBOX\r\nX1 DELETE Victim"). Every value that can reach a server
// passes here once: option values in OptionSet::parse(), secrets in read_secret().
// `source` names where the value came from ("--folder", "MAILPROBE_SMTP_PASSWORD"); the
// value itself is never repeated in the UsageError.
void require_one_line(const std::string& source, std::string_view value);

class OptionSet {
public:
    OptionSet(std::string program, std::string description);

    OptionSet& section(std::string title);
    OptionSet& flag(std::string long_name, char short_name, std::string help);
    OptionSet& value(std::string long_name, char short_name, std::string value_name,
                     std::string help, std::string default_text = "");
    OptionSet& multi(std::string long_name, char short_name, std::string value_name,
                     std::string help);
    // Accepts "--name" alone (implicit value) or "--name VALUE".
    OptionSet& optional_value(std::string long_name, std::string value_name, std::string help,
                              std::string implicit_value);
    // Another long name for the option declared last (what users of other plugins type).
    OptionSet& alias(std::string long_name);

    // Throws UsageError on unknown options, bad syntax, repeated single options or a value
    // with CR, LF or NUL (require_one_line).
    ParsedOptions parse(int argc, const char* const* argv) const;

    // Names at column 2 ("-t, --timeout") or 6 ("--output"), so that every long name
    // starts in one column; the help text below each at column 10.
    std::string help_text() const;
    std::string usage_line() const;
    const std::string& program() const { return m_program; }
    const std::string& description() const { return m_description; }
    const std::vector<OptionSpec>& specs() const { return m_specs; }

private:
    OptionSet& add(OptionSpec spec);

    std::string m_program;
    std::string m_description;
    std::string m_section = "Options";
    std::vector<OptionSpec> m_specs;
    std::vector<std::pair<std::string, std::string>> m_implicit;  // long name -> implicit value
};

class ParsedOptions {
public:
    ParsedOptions(boost::program_options::variables_map vm, int verbosity)
        : m_vm(std::move(vm)), m_verbosity(verbosity) {}

    bool has(const std::string& name) const;
    std::optional<std::string> get(const std::string& name) const;
    std::string get_or(const std::string& name, const std::string& fallback) const;
    std::vector<std::string> all(const std::string& name) const;
    // Names of the options given on the command line (not defaults) that start with prefix.
    std::vector<std::string> given_with_prefix(std::string_view prefix) const;
    // Typed getters: UsageError "--name: 'x' is not a ..." on a bad value.
    std::optional<double> number(const std::string& name) const;
    std::optional<double> seconds(const std::string& name) const;  // > 0, <= 86400
    std::optional<int> port(const std::string& name) const;        // 1..65535
    std::optional<int> integer(const std::string& name, int min, int max) const;
    int verbosity() const { return m_verbosity; }

private:
    boost::program_options::variables_map m_vm;
    int m_verbosity;
};

}  // namespace mailprobe
