#pragma once
// The one reader for files that hold a secret (SMTP and mailbox passwords, tokens, probe keys,
// OAuth2 client keys) with one set of rules (size, line ends, permissions, wording), and
// the checks that refuse a probe key or state directory another local user could have planted
// or swapped (issue 11): whoever controls the key can forge probes.
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace mailprobe::state {

// A password or key is a line of text; anything larger is a wrong file (or an attack on our
// memory), refused before it is read.
inline constexpr std::size_t max_secret_bytes = 64 * 1024;

enum class Ownership {
    any,  // a password file: root or a deployment tool may own it, a symlink is fine
    ours  // a probe key: not a symlink, owned by us or root, not writable by group or others
};

// How messages name a password or token file (`what` below).
inline constexpr const char* secret_file_what = "secret file";

// How a secret is laid out in its file.
enum class Layout {
    line,     // a password, token or key: one line; the CR/LF that ends it is not part of it
    document  // a PEM private key, a JSON key file: the whole content as it is
};

struct SecretFile {
    std::string value;
    bool readable_by_others = false;  // group or others may read it: worth a note
};

// The one reader of files that hold a secret. std::nullopt when the file does not exist.
// UsageError naming the file (`what`: "secret file", "probe key", "client key") and the fix
// when it cannot be opened or read, is a directory or not a regular file, exceeds
// max_secret_bytes, is empty (a document: blank), holds a NUL byte, (Layout::line) holds more than
// one line, or (Ownership::ours) could have been planted. The checks run on the opened descriptor
// (O_NOFOLLOW, fstat): no time-of-check gap.
std::optional<SecretFile> read_secret_file(const std::string& path, const std::string& what,
                                           Ownership ownership, Layout layout = Layout::line);

// A file the user named, so it must exist: read_secret_file(), and a missing one is the
// UsageError "cannot read WHAT PATH: No such file or directory".
SecretFile read_named_file(const std::string& path, const std::string& what, Ownership ownership,
                           Layout layout);

// read_named_file() for a secret: its value, and when group or others may read the file,
// readable_by_others_note() appended to `notes` (the plugins show them as "note: ...").
std::string read_named_secret(const std::string& path, const std::string& what, Ownership ownership,
                              Layout layout, std::vector<std::string>& notes);

// "WHAT PATH is readable by group or others (chmod 600)".
std::string readable_by_others_note(const std::string& what, const std::string& path);

// UsageError naming `dir` and the fix when it is not a directory, or another local user
// could replace files in it: writable by others without the sticky bit, or owned by a user
// other than us and root.
void require_trusted_directory(const std::string& dir);

}  // namespace mailprobe::state
