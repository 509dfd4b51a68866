#pragma once
// The --async state store: one file per check identity in a state directory, replaced
// atomically and serialised by a lock file, because runs can be SIGKILLed at any point and
// runs of one identity can overlap (Icinga retries).
#include <optional>
#include <string>
#include <vector>

#include "core/deadline.hpp"
#include "core/unique_fd.hpp"
#include "state/model.hpp"
#include "state/secret_file.hpp"

namespace mailprobe::state {

// Environment variable consulted when --state-dir is not given.
inline constexpr const char* state_dir_env = "MAILPROBE_STATE_DIR";

class StateDir {
public:
    // dir from --state-dir, else $MAILPROBE_STATE_DIR, both created (with missing parents)
    // with mode 0700; else the running user's own /var/lib/mailprobe/USER (see
    // state/user_dir.hpp). Unusable (cannot create, not a directory, cannot create files in
    // it) -> CheckFailure(unknown) naming the path, the OS error and the command that fixes it;
    // one another user could tamper with -> UsageError (require_trusted_directory()).
    static StateDir open(const std::optional<std::string>& dir);

    const std::string& path() const { return m_path; }

    // "<dir>/<sanitized identity prefix>-<16 hex of SHA-256(identity)>.state". Distinct
    // identities that collide on the name are caught by the identity recorded in the file.
    std::string state_path(const std::string& identity) const;

    // The probe HMAC key from "<dir>/probe.key" (64 hex digits, mode 0600), created on first
    // use; concurrent first uses agree on one key. The key is the hex text itself, so the file
    // can be copied to another host and given to --probe-secret-file unchanged.
    // Existing but malformed (not hex, under 16 bytes of key) -> unknown "corrupt key file";
    // planted (symlink, foreign owner, writable by others) -> UsageError (read_secret_file()).
    std::string load_or_create_key() const;

private:
    explicit StateDir(std::string path) : m_path(std::move(path)) {}
    std::string m_path;
};

// RAII: holds an exclusive flock on "<state_path>.lock" for its lifetime.
class LockedState {
public:
    // Polls the lock until the deadline -> unknown "state file <path> is locked by another
    // run (waited N s)". Tries once even if the deadline has already passed.
    static LockedState acquire(const StateDir& dir, const std::string& identity,
                               const Deadline& deadline);

    const std::string& path() const { return m_path; }

    // Missing file -> a fresh state for the identity. Corrupt, unsupported version or another
    // identity's file -> throws, and save() refuses to overwrite it afterwards.
    CheckState load();

    // Atomic replace (tmp file, fsync, rename, fsync dir). state.identity must be ours.
    void save(const CheckState& state);

private:
    LockedState(UniqueFd lock, std::string path, std::string identity)
        : m_lock(std::move(lock)), m_path(std::move(path)), m_identity(std::move(identity)) {}
    void remove_stale_temp_files() const;

    UniqueFd m_lock;  // closing it releases the flock
    std::string m_path;
    std::string m_identity;
    bool m_load_failed = false;
};

// A key given with --probe-secret-file: read_named_secret() with Ownership::ours (a missing
// file is a UsageError; one that others may read adds a note).
std::string read_key_file(const std::string& path, std::vector<std::string>& notes);

}  // namespace mailprobe::state
