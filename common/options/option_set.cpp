#include "options/option_set.hpp"

#include <algorithm>
#include <cmath>
#include <regex>

#include "core/error.hpp"
#include "result/range.hpp"

namespace po = boost::program_options;

namespace mailprobe {

OptionSet::OptionSet(std::string program, std::string description)
    : m_program(std::move(program)), m_description(std::move(description)) {}

OptionSet& OptionSet::section(std::string title) {
    m_section = std::move(title);
    return *this;
}

OptionSet& OptionSet::add(OptionSpec spec) {
    spec.section = m_section;
    m_specs.push_back(std::move(spec));
    return *this;
}

OptionSet& OptionSet::flag(std::string long_name, char short_name, std::string help) {
    return add({std::move(long_name), short_name, "", std::move(help), "", false, "", {}});
}

OptionSet& OptionSet::value(std::string long_name, char short_name, std::string value_name,
                            std::string help, std::string default_text) {
    return add({std::move(long_name),
                short_name,
                std::move(value_name),
                std::move(help),
                std::move(default_text),
                false,
                "",
                {}});
}

OptionSet& OptionSet::multi(std::string long_name, char short_name, std::string value_name,
                            std::string help) {
    return add({std::move(long_name),
                short_name,
                std::move(value_name),
                std::move(help),
                "",
                true,
                "",
                {}});
}

OptionSet& OptionSet::optional_value(std::string long_name, std::string value_name,
                                     std::string help, std::string implicit_value) {
    m_implicit.emplace_back(long_name, std::move(implicit_value));
    return add({std::move(long_name),
                0,
                "[" + std::move(value_name) + "]",
                std::move(help),
                "",
                false,
                "",
                {}});
}

OptionSet& OptionSet::alias(std::string long_name) {
    m_specs.back().aliases.push_back(std::move(long_name));
    return *this;
}

namespace {

// -v may be given up to three times ("-v -v", "-vvv"); Boost cannot count, so we do.
int take_verbosity(std::vector<std::string>& args) {
    static const std::regex v_run("-v+");
    int level = 0;
    std::vector<std::string> rest;
    for (auto& a : args) {
        if (std::regex_match(a, v_run)) {
            level += static_cast<int>(a.size()) - 1;
        } else if (a == "--verbose") {
            ++level;
        } else {
            rest.push_back(a);
        }
    }
    args = std::move(rest);
    return std::min(level, 3);
}

// "smtp-host,hostname,H": the first name is the key the value is stored under.
std::string po_name(const OptionSpec& s) {
    std::string name = s.long_name;
    for (const auto& a : s.aliases) name += "," + a;
    return s.short_name ? name + "," + std::string(1, s.short_name) : name;
}

// Boost.ProgramOptions stores each value as a string or a list of strings (see parse()).
void require_one_line_values(const po::variables_map& vm) {
    for (const auto& [name, value] : vm) {
        if (const auto* text = boost::any_cast<std::string>(&value.value())) {
            require_one_line("--" + name, *text);
        } else if (const auto* list = boost::any_cast<std::vector<std::string>>(&value.value())) {
            for (const auto& item : *list) require_one_line("--" + name, item);
        }
    }
}

}  // namespace

void require_one_line(const std::string& source, std::string_view value) {
    if (value.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos) {
        throw UsageError(source +
                         ": the value contains a line break or NUL byte (CR, LF and NUL are "
                         "never sent to a server)");
    }
}

ParsedOptions OptionSet::parse(int argc, const char* const* argv) const {
    std::vector<std::string> args(argv + std::min(argc, 1), argv + argc);
    int verbosity = take_verbosity(args);
    po::options_description desc;
    for (const auto& s : m_specs) {
        auto implicit = std::find_if(m_implicit.begin(), m_implicit.end(),
                                     [&](const auto& p) { return p.first == s.long_name; });
        if (s.value_name.empty()) {
            desc.add_options()(po_name(s).c_str(), po::bool_switch());
        } else if (s.repeatable) {
            desc.add_options()(po_name(s).c_str(), po::value<std::vector<std::string>>());
        } else if (implicit != m_implicit.end()) {
            desc.add_options()(po_name(s).c_str(),
                               po::value<std::string>()->implicit_value(implicit->second));
        } else {
            desc.add_options()(po_name(s).c_str(), po::value<std::string>());
        }
    }
    po::variables_map vm;
    try {
        auto style =
            po::command_line_style::default_style & ~po::command_line_style::allow_guessing;
        auto parsed = po::command_line_parser(args).options(desc).style(style).run();
        // An empty word is no option: Zabbix passes an empty macro (e.g. unused extra
        // options of an external check) as '' and that must not be an error.
        std::erase_if(parsed.options, [](const po::option& opt) {
            return opt.position_key >= 0 && opt.original_tokens.size() == 1 &&
                   opt.original_tokens.front().empty();
        });
        for (const auto& opt : parsed.options) {
            // A stray word is almost always a forgotten option name: never ignore it.
            if (opt.position_key >= 0 || opt.string_key.empty()) {
                std::string word = opt.original_tokens.empty() ? "" : opt.original_tokens.front();
                require_one_line("an unexpected argument", word);
                throw UsageError("unexpected argument '" + word + "'");
            }
        }
        po::store(parsed, vm);
        po::notify(vm);
        require_one_line_values(vm);
    } catch (const po::error& e) {
        throw UsageError(e.what());
    }
    return ParsedOptions(std::move(vm), verbosity);
}

std::string OptionSet::usage_line() const {
    return "Usage: " + m_program + " [options]   (see " + m_program + " --help)";
}

namespace {

// Wraps text at word boundaries to lines of at most `width`, each starting with indent.
std::string wrap(const std::string& text, const std::string& indent, std::size_t width) {
    std::string out, line;
    std::size_t start = 0;
    while (start < text.size()) {
        auto end = text.find(' ', start);
        std::string word = text.substr(start, end == std::string::npos ? end : end - start);
        start = end == std::string::npos ? text.size() : end + 1;
        if (!line.empty() && indent.size() + line.size() + 1 + word.size() > width) {
            out += indent + line + "\n";
            line.clear();
        }
        line += (line.empty() ? "" : " ") + word;
    }
    if (!line.empty()) out += indent + line + "\n";
    return out;
}

}  // namespace

std::string OptionSet::help_text() const {
    std::string out =
        m_program + " - " + m_description + "\n\nUsage: " + m_program + " [options]\n";
    std::string section;
    for (const auto& s : m_specs) {
        if (s.section != section) {
            section = s.section;
            out += "\n" + section + ":\n";
        }
        std::string names = s.short_name ? std::string("  -") + s.short_name + ", " : "      ";
        names += "--" + s.long_name;
        for (const auto& a : s.aliases) names += ", --" + a;
        names += s.value_name.empty() ? "" : " " + s.value_name;
        std::string help = s.help;
        if (!s.default_text.empty()) help += " (default: " + s.default_text + ")";
        if (s.repeatable) help += " (repeatable)";
        out += names + "\n" + wrap(help, "          ", 79);
    }
    return out;
}

bool ParsedOptions::has(const std::string& name) const {
    auto it = m_vm.find(name);
    if (it == m_vm.end() || it->second.empty()) return false;
    if (auto* b = boost::any_cast<bool>(&it->second.value())) return *b;
    return true;
}

std::optional<std::string> ParsedOptions::get(const std::string& name) const {
    auto it = m_vm.find(name);
    if (it == m_vm.end() || it->second.empty()) return std::nullopt;
    if (auto* s = boost::any_cast<std::string>(&it->second.value())) return *s;
    return std::nullopt;
}

std::string ParsedOptions::get_or(const std::string& name, const std::string& fallback) const {
    return get(name).value_or(fallback);
}

std::vector<std::string> ParsedOptions::all(const std::string& name) const {
    auto it = m_vm.find(name);
    if (it == m_vm.end() || it->second.empty()) return {};
    if (auto* v = boost::any_cast<std::vector<std::string>>(&it->second.value())) return *v;
    return {};
}

std::optional<double> ParsedOptions::number(const std::string& name) const {
    auto text = get(name);
    if (!text) return std::nullopt;
    auto v = parse_number(*text);
    if (!v) throw UsageError("--" + name + ": '" + *text + "' is not a number");
    return v;
}

std::optional<double> ParsedOptions::seconds(const std::string& name) const {
    auto v = number(name);
    if (v && (*v <= 0 || *v > 86400)) {
        throw UsageError("--" + name + ": '" + *get(name) +
                         "' is out of range: give more than 0 and at most 86400 seconds");
    }
    return v;
}

std::optional<int> ParsedOptions::integer(const std::string& name, int min, int max) const {
    auto v = number(name);
    if (!v) return std::nullopt;
    // Range first: converting a double outside int's range (1e30) is undefined behaviour.
    if (!(*v >= min && *v <= max) || std::trunc(*v) != *v) {
        throw UsageError("--" + name + ": '" + *get(name) + "' must be a whole number from " +
                         std::to_string(min) + " to " + std::to_string(max));
    }
    return static_cast<int>(*v);
}

std::vector<std::string> ParsedOptions::given_with_prefix(std::string_view prefix) const {
    std::vector<std::string> names;
    for (const auto& [name, value] : m_vm) {
        if (name.starts_with(prefix) && !value.defaulted() && !value.empty()) names.push_back(name);
    }
    return names;
}

std::optional<int> ParsedOptions::port(const std::string& name) const {
    return integer(name, 1, 65535);
}

}  // namespace mailprobe
