#pragma once
// The one reader for files that hold a secret (SMTP and mailbox passwords, probe keys), and
// the checks that refuse a probe key or state directory another local user could have planted
// or swapped (issue 11): whoever controls the key can forge probes.
#include <cstddef>
#include <optional>
#include <string>

namespace mailprobe::state {

// A password or key is a line of text; anything larger is a wrong file (or an attack on our
// memory), refused before it is read.
inline constexpr std::size_t max_secret_bytes = 64 * 1024;

enum class Ownership {
    any,  // a password file: root or a deployment tool may own it, a symlink is fine
    ours  // a probe key: not a symlink, owned by us or root, not writable by group or others
};

struct SecretFile {
    std::string value;
    bool readable_by_others = false;  // group or others may read it: worth a note
};

// The file's one line (trailing CR/LF removed). std::nullopt when it does not exist.
// UsageError naming the file (`what`: "secret file", "probe key") and the fix when it cannot
// be opened or read, is a directory or not a regular file, exceeds max_secret_bytes, is
// empty, holds more than one line or a NUL byte, or (Ownership::ours) could have been planted.
// The checks run on the opened descriptor (O_NOFOLLOW, fstat): no time-of-check gap.
std::optional<SecretFile> read_secret_file(const std::string& path, const std::string& what,
                                           Ownership ownership);

// UsageError naming `dir` and the fix when it is not a directory, or another local user
// could replace files in it: writable by others without the sticky bit, or owned by a user
// other than us and root.
// The same checks for a secret of several lines (a PEM private key, a JSON key file): the
// whole content, which must not be blank nor hold a NUL byte.
std::optional<SecretFile> read_secret_document(const std::string& path, const std::string& what,
                                               Ownership ownership);

void require_trusted_directory(const std::string& dir);

}  // namespace mailprobe::state
