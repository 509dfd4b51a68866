#pragma once
// A bearer token obtained at run time, under the run's deadline, once per run: the SMTP
// connection, the mailbox connection and every POP3 re-login of one side share the answer.
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/deadline.hpp"

namespace mailprobe::oauth2 {

class TokenSource {
public:
    virtual ~TokenSource() = default;
    // Throws CheckFailure CRITICAL naming the source and what went wrong.
    virtual std::string token(const Deadline& deadline) = 0;
    // The mail server refused `refused`: a source that can get another token (the built-in
    // client, once per run) returns it; nullopt when there is none to try.
    virtual std::optional<std::string> replace_refused(const std::string& /*refused*/,
                                                       const Deadline& /*deadline*/) {
        return std::nullopt;
    }
};

// --smtp-token-command / --mailbox-token-command: a program run without a shell whose
// stdout (first line) is the token, as mutt, msmtp, isync and oama users already have.
class CommandTokenSource final : public TokenSource {
public:
    // what: "SMTP" or "mailbox", for messages.
    CommandTokenSource(std::vector<std::string> argv, std::string what);
    std::string token(const Deadline& deadline) override;

private:
    std::vector<std::string> m_argv;
    std::string m_what;
    std::mutex m_mutex;
    std::optional<std::string> m_token;
};

// Why a token cannot be put into a protocol line (space, control or non-ASCII
// character, empty); nullopt when it can.
std::optional<std::string> token_problem(std::string_view token);

}  // namespace mailprobe::oauth2
