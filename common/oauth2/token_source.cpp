#include "oauth2/token_source.hpp"

#include "core/sanitize.hpp"
#include "core/secrets.hpp"
#include "process/child.hpp"
#include "result/failure.hpp"

namespace mailprobe::oauth2 {

std::optional<std::string> token_problem(std::string_view token) {
    if (token.empty()) return "the token is empty";
    for (unsigned char c : token) {
        // RFC 6750 b64token characters and more, never what could end or split a line
        if (c < 0x21 || c > 0x7e)
            return "the token contains a space, control or non-ASCII character";
    }
    return std::nullopt;
}

CommandTokenSource::CommandTokenSource(std::vector<std::string> argv, std::string what)
    : m_argv(std::move(argv)), m_what(std::move(what)) {}

std::string CommandTokenSource::token(const Deadline& deadline) {
    std::lock_guard lock(m_mutex);
    if (m_token) return *m_token;
    const std::string who = m_what + " token command " + m_argv.front();
    process::ChildOutcome child;
    try {
        child = process::run_child(m_argv, "", deadline, false);
    } catch (const CheckFailure& e) {
        throw critical(m_what + " token command: " + e.what());
    }
    std::string out = child.out;
    auto eol = out.find_first_of("\r\n");
    if (eol != std::string::npos) out.resize(eol);
    while (!out.empty() && (out.back() == ' ' || out.back() == '\t')) out.pop_back();
    if (!out.empty()) secrets::register_secret(out);
    std::string err = sanitize_text(child.err, 200);
    if (child.signal != 0) {
        throw critical(who + " killed by signal " + std::to_string(child.signal) +
                       (err.empty() ? "" : ": " + err));
    }
    if (child.exit_status != 0) {
        throw critical(who + " failed with exit status " + std::to_string(child.exit_status) +
                       (err.empty() ? "" : ": " + err));
    }
    if (auto problem = token_problem(out)) {
        throw critical(who + " printed no usable token: " + *problem);
    }
    m_token = out;
    return out;
}

}  // namespace mailprobe::oauth2
