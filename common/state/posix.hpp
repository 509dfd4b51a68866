#pragma once
// Small POSIX file helpers shared by the state store (not part of its public API).
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "result/failure.hpp"

namespace mailprobe::state::detail {

// "<path>: <action>: <strerror(err)>" as an UNKNOWN failure.
CheckFailure os_failure(const std::string& path, const std::string& action, int err);

std::string parent_dir(const std::string& path);

// Whole file, or std::nullopt if it does not exist. Larger than max_size -> failure.
// `what` names the file in messages ("state file", "key file").
std::optional<std::string> read_file(const std::string& path, std::size_t max_size,
                                     const std::string& what);

void write_all(int fd, std::string_view data, const std::string& path);

// Makes a completed rename/link in `dir` durable. Filesystems that cannot sync
// directories (EINVAL) are accepted as they are.
void fsync_directory(const std::string& dir);

// Replaces `path` with `content` so that readers (and a crash) see either the old or the
// new file, never a mix: write "<path>.tmp.<pid>", fsync, rename over, fsync the directory.
void replace_file_atomically(const std::string& path, std::string_view content);

}  // namespace mailprobe::state::detail
