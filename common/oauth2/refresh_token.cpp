#include "oauth2/refresh_token.hpp"

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <memory>

#include "result/failure.hpp"
#include "state/posix.hpp"
#include "state/secret_file.hpp"

namespace mailprobe::oauth2 {

std::string read_refresh_token(const std::string& path, std::vector<std::string>& warnings) {
    return state::read_named_secret(path, state::secret_file_what, state::Ownership::any,
                                    state::Layout::line, warnings);
}

FormFields refresh_token_grant_fields(const std::string& refresh_token, const std::string& scope) {
    FormFields fields{{"grant_type", "refresh_token"}, {"refresh_token", refresh_token}};
    if (!scope.empty()) fields.emplace_back("scope", scope);
    return fields;
}

void store_rotated_refresh_token(const std::string& path, const std::string& rotated) {
    // The next run reads it back as one line: a token that is not one is not written.
    if (rotated.empty() || rotated.find_first_of(std::string("\r\n\0", 3)) != std::string::npos) {
        throw critical("token endpoint returned a refresh token that is not one line: " + path +
                       " left as it was");
    }
    // A deployment may keep the file behind a link; the link stays, its target is replaced.
    std::unique_ptr<char, decltype(&std::free)> real(::realpath(path.c_str(), nullptr), &std::free);
    if (!real) throw state::detail::os_failure(path, "cannot resolve", errno);
    state::detail::replace_file_atomically(real.get(), rotated + "\n");
}

}  // namespace mailprobe::oauth2
