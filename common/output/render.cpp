#include "output/render.hpp"

#include "core/sanitize.hpp"
#include "core/secrets.hpp"

namespace mailprobe {

namespace {

// Secrets are scrubbed from the raw text first: sanitising or escaping could change a
// secret's spelling (a '|' in it, a quote) so that a later scrub no longer sees it.
std::string clean(const std::string& text, std::size_t max_len) {
    return sanitize_text(secrets::scrub(text), max_len);
}

void collect_perfdata(const CheckResult& r, std::string& out) {
    for (const auto& d : r.perfdata) {
        if (!out.empty()) out += ' ';
        out += format_perfdatum(d);
    }
    for (const auto& c : r.children) collect_perfdata(c, out);
}

// A sub-result's heading in the long output: its own summary (its children follow below
// it), or what speaks for it on line 1 when it has none.
std::string heading(const CheckResult& r) {
    return r.summary.empty() ? line_summary(r) : r.summary;
}

void collect_long(const CheckResult& r, int depth, int verbosity, std::vector<std::string>& lines) {
    std::string indent(static_cast<std::size_t>(depth) * 2, ' ');
    for (const auto& d : r.details) {
        if (static_cast<int>(d.level) <= verbosity) lines.push_back(indent + clean(d.text, 1000));
    }
    for (const auto& c : r.children) {
        lines.push_back(indent + "[" + std::string(status_name(overall_status(c))) + "] " +
                        clean(heading(c), 1000));
        collect_long(c, depth + 1, verbosity, lines);
    }
}

std::string json_escape(std::string_view s) {
    std::string out;
    for (unsigned char c : s) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c < 0x20) {
            const char* hex = "0123456789abcdef";
            out += "\\u00";
            out += hex[c >> 4];
            out += hex[c & 15];
        } else {
            out += static_cast<char>(c);
        }
    }
    return out;
}

void collect_metrics(const CheckResult& r, std::string& out) {
    for (const auto& d : r.perfdata) {
        if (out.size() > 1) out += ',';
        out += "\"" + json_escape(d.label) + "\":" +
               (format_number(d.value) == "U" ? std::string("null") : format_number(d.value));
    }
    for (const auto& c : r.children) collect_metrics(c, out);
}

std::string render_json(std::string_view service, const CheckResult& result, int verbosity) {
    Status s = overall_status(result);
    std::vector<std::string> lines;
    collect_long(result, 0, verbosity, lines);
    std::string metrics = "{";
    collect_metrics(result, metrics);
    metrics += "}";
    std::string out = "{\"service\":\"" + json_escape(service) + "\",\"state\":\"" +
                      std::string(status_name(s)) +
                      "\",\"exit_code\":" + std::to_string(exit_code(s)) + ",\"summary\":\"" +
                      json_escape(clean(line_summary(result), 300)) + "\",\"metrics\":" + metrics +
                      ",\"details\":[";
    for (std::size_t i = 0; i < lines.size(); ++i) {
        out += (i ? ",\"" : "\"") + json_escape(lines[i]) + "\"";
    }
    return out + "]}\n";
}

}  // namespace

std::string render(std::string_view service, const CheckResult& result,
                   const RenderOptions& options) {
    if (options.json) return secrets::scrub(render_json(service, result, options.verbosity));
    std::string perf;
    collect_perfdata(result, perf);
    std::string first = std::string(service) + " " +
                        std::string(status_name(overall_status(result))) + " - " +
                        clean(line_summary(result), 300);
    first = secrets::scrub(first);
    std::string out = first + (perf.empty() ? "" : " | " + perf) + "\n";
    std::vector<std::string> lines;
    collect_long(result, 0, options.verbosity, lines);
    for (auto& line : lines) {
        line = secrets::scrub(line);
        static constexpr std::string_view marker = "(output truncated)\n";
        if (out.size() + line.size() + 1 + marker.size() > options.max_bytes) {
            out += marker;
            break;
        }
        out += line + "\n";
    }
    return out;
}

}  // namespace mailprobe
