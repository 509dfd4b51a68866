// gen_icinga2: writes Icinga 2 CheckCommand objects (ITL style) for every plugin from the
// plugins' option tables, so every option is an argument with the --help text as its
// description and nothing can be forgotten.
//
//   gen_icinga2 --out FILE
//
// Naming: the command is the plugin name without "check_" (check_mail_roundtrip ->
// "mail_roundtrip"); every option --some-name reads the custom variable
// mailprobe_some_name, shared by all four commands. Flags use set_if, repeatable options
// take a string or an array (repeat_key). Secrets never go on the command line: the
// inline password options are left out and the custom variables mailprobe_smtp_password /
// mailprobe_mailbox_password reach the plugin through its environment variables; the
// *_password_file variables name files. Left out as well: --help, --version and --output
// (Icinga needs the default plugin output).
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>

#include "checks/plugins.hpp"
#include "version.hpp"

namespace {

// Inline secret options and the environment variable that replaces them.
const std::map<std::string, std::string> k_secret_env = {
    {"smtp-password", "MAILPROBE_SMTP_PASSWORD"},
    {"mailbox-password", "MAILPROBE_MAILBOX_PASSWORD"},
};
// "starttls" (-S) is a shortcut for --smtp-tls starttls, which the CheckCommand already has.
const std::set<std::string> k_left_out = {"help", "version", "output", "starttls"};

std::string quote(const std::string& s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + "\"";
}

std::string var_name(const std::string& long_name) {
    std::string v = "mailprobe_" + long_name;
    for (auto& c : v) {
        if (c == '-') c = '_';
    }
    return v;
}

std::string description(const mailprobe::OptionSpec& s) {
    std::string d = s.help;
    if (!s.default_text.empty()) d += " (default: " + s.default_text + ")";
    if (s.repeatable) d += " (repeatable: a string or an array)";
    return d;
}

std::string command_object(const mailprobe::OptionSet& o) {
    std::string name = o.program();
    if (name.rfind("check_", 0) == 0) name = name.substr(6);
    std::ostringstream out;
    out << "object CheckCommand " << quote(name) << " {\n"
        << "\tcommand = [ PluginDir + " << quote("/" + o.program()) << " ]\n\n"
        << "\targuments = {\n";
    std::map<std::string, std::string> env;
    for (const auto& s : o.specs()) {
        if (k_left_out.count(s.long_name)) continue;
        if (auto it = k_secret_env.find(s.long_name); it != k_secret_env.end()) {
            env[it->second] = var_name(s.long_name);
            continue;
        }
        if (s.long_name.size() > 9 && s.long_name.ends_with("-password")) {
            throw std::runtime_error(o.program() + ": --" + s.long_name +
                                     " looks like a secret; add it to k_secret_env");
        }
        const std::string key = "--" + s.long_name;
        const std::string var = "$" + var_name(s.long_name) + "$";
        if (s.value_name.empty()) {
            out << "\t\t" << quote(key) << " = {\n"
                << "\t\t\tset_if = " << quote(var) << "\n"
                << "\t\t\tdescription = " << quote(description(s)) << "\n"
                << "\t\t}\n";
        } else if (s.value_name.front() == '[') {
            // An optional value: the flag alone (mailprobe_sendmail = true) or with a value
            // (mailprobe_sendmail_command = "..."): two arguments with the same key.
            std::string value_var = var_name(s.long_name) + "_";
            for (char c : s.value_name.substr(1, s.value_name.size() - 2)) {
                value_var += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            }
            out << "\t\t" << quote(key) << " = {\n"
                << "\t\t\tset_if = " << quote(var) << "\n"
                << "\t\t\tdescription = "
                << quote(description(s) + " (the flag alone; or set " + value_var +
                         " to give the value)")
                << "\n"
                << "\t\t}\n"
                << "\t\t" << quote("(" + s.long_name + "_value)") << " = {\n"
                << "\t\t\tkey = " << quote(key) << "\n"
                << "\t\t\tvalue = " << quote("$" + value_var + "$") << "\n"
                << "\t\t\tdescription = "
                << quote(description(s) + " (with the value " + value_var + ")") << "\n"
                << "\t\t}\n";
        } else {
            out << "\t\t" << quote(key) << " = {\n"
                << "\t\t\tvalue = " << quote(var) << "\n";
            if (s.repeatable) out << "\t\t\trepeat_key = true\n";
            out << "\t\t\tdescription = " << quote(description(s)) << "\n"
                << "\t\t}\n";
        }
    }
    out << "\t}\n";
    if (!env.empty()) {
        out << "\n\tenv = {\n";
        for (const auto& [variable, custom_var] : env) {
            out << "\t\t" << variable << " = " << quote("$" + custom_var + "$") << "\n";
        }
        out << "\t}\n";
    }
    out << "}\n";
    return out.str();
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3 || std::string(argv[1]) != "--out") {
        std::cerr << "usage: gen_icinga2 --out FILE\n";
        return 2;
    }
    try {
        std::ostringstream out;
        out << "/* mailprobe " << mailprobe::k_version
            << ": Icinga 2 CheckCommand definitions (ITL style).\n"
            << " *\n"
            << " * Generated by tools/gen_icinga2 from the plugins' option tables; do not edit,\n"
            << " * run `cmake --build BUILD --target regenerate-icinga2`.\n"
            << " * Include this file once (e.g. from /etc/icinga2/conf.d or a global zone):\n"
            << " *   include \"/usr/share/mailprobe/icinga2/mailprobe-commands.conf\"\n"
            << " * Every option --some-name is the custom variable mailprobe_some_name.\n"
            << " * Secrets: mailprobe_smtp_password / mailprobe_mailbox_password are passed in\n"
            << " * the environment (never on the command line); or name files with\n"
            << " * mailprobe_smtp_password_file / mailprobe_mailbox_password_file.\n"
            << " */\n";
        for (const auto& plugin : mailprobe::checks::all_plugins()) {
            out << "\n" << command_object(plugin.spec.options);
        }
        const std::filesystem::path target = argv[2];
        const std::filesystem::path tmp = target.string() + ".tmp";
        {
            std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
            f << out.str();
            if (!f) throw std::runtime_error("cannot write " + tmp.string());
        }
        std::filesystem::rename(tmp, target);
    } catch (const std::exception& e) {
        std::cerr << "gen_icinga2: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
