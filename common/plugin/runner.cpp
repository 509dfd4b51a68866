#include "plugin/runner.hpp"

#include <chrono>
#include <csignal>
#include <cstdio>
#include <new>
#include <string>

#include "checks/certificate.hpp"
#include "oauth2/client_source.hpp"
#include "options/standard.hpp"
#include "output/render.hpp"
#include "result/failure.hpp"
#include "result/perfdata.hpp"
#include "version.hpp"

namespace mailprobe {

namespace {

CheckResult failure_result(Status status, const std::string& message) {
    CheckResult r;
    r.status = status;
    r.summary = message;
    return r;
}

// Before the options are parsed: did the command line ask for JSON? A usage error must
// still be one JSON object for a Zabbix external check ("--output json", "--output=json").
bool argv_wants_json(int argc, const char* const* argv) {
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--output=json") return true;
        if (arg == "--output" && i + 1 < argc && std::string(argv[i + 1]) == "json") return true;
    }
    return false;
}

int emit(const std::string& text, int code) {
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
    return code;
}

}  // namespace

int run_plugin(const PluginSpec& spec, int argc, const char* const* argv,
               const CheckFunction& check) {
    // A server or a sendmail child that goes away mid-write must not kill us silently.
    std::signal(SIGPIPE, SIG_IGN);
    const int unknown_code = exit_code(Status::unknown);
    std::optional<ParsedOptions> parsed;
    try {
        parsed.emplace(spec.options.parse(argc, argv));
    } catch (const UsageError& e) {
        if (argv_wants_json(argc, argv)) {
            RenderOptions json_options;
            json_options.json = true;
            return emit(
                render(spec.service, failure_result(Status::unknown, e.what()), json_options),
                unknown_code);
        }
        return emit(render(spec.service, failure_result(Status::unknown, e.what())) +
                        spec.options.usage_line() + "\n",
                    unknown_code);
    }
    if (parsed->has("help")) return emit(spec.options.help_text(), unknown_code);
    if (parsed->has("version")) {
        return emit(spec.options.program() + " (mailprobe) " + k_version + "\n", unknown_code);
    }
    RenderOptions render_options;
    try {
        render_options.json = parse_output_format(*parsed) == OutputFormat::json;
    } catch (const UsageError& e) {
        return emit(render(spec.service, failure_result(Status::unknown, e.what())) +
                        spec.options.usage_line() + "\n",
                    unknown_code);
    }
    render_options.verbosity = parsed->verbosity();
    if (render_options.verbosity >= 3) render_options.max_bytes = 64 * 1024;  // transcripts
    CheckResult result;
    std::string hint;
    auto started = std::chrono::steady_clock::now();
    try {
        result = check(*parsed);
    } catch (const UsageError& e) {
        result = failure_result(Status::unknown, e.what());
        hint = spec.options.usage_line() + "\n";
    } catch (const CheckFailure& e) {
        result = failure_result(e.status(), e.what());
        result.perfdata = e.perfdata();
        result.perfdata.push_back(seconds_datum(
            "time",
            std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count()));
        for (const auto& line : e.transcript())  // what was said, shown at -vvv
            result.add_detail(line, Verbosity::transcript);
    } catch (const std::bad_alloc&) {
        result = failure_result(Status::unknown, "out of memory");
    } catch (const std::exception& e) {
        result = failure_result(Status::unknown, std::string("internal error: ") + e.what());
    }
    checks::add_client_certificate_result(result, *parsed);
    // Both sides of a round trip share the client: one figure for the run.
    if (auto token_s = oauth2::token_time_s())
        result.perfdata.push_back(seconds_datum("oauth2_token_time", *token_s));
    std::string out = render(spec.service, result, render_options);
    if (!render_options.json) out += hint;
    return emit(out, exit_code(overall_status(result)));
}

}  // namespace mailprobe
