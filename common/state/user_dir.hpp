#pragma once
// The default state directory: one private directory per user below a shared base, so
// that whichever user runs the plugin (nagios, icinga, zabbix, a new system user) finds or
// creates its own, whatever was installed first.
//
//   BASE        root-owned, mode 1777 (sticky: nobody can remove or rename another user's
//               directory). Created by the package; created by the plugin if it runs as root.
//   BASE/USER   owned by USER, mode 0700, created by the plugin on first use.
#include <string>

namespace mailprobe::state {

// Environment variable naming another base (tests, non-FHS systems).
inline constexpr const char* state_base_env = "MAILPROBE_STATE_BASE";
inline constexpr const char* default_state_base = "/var/lib/mailprobe";

// The running user's login name, or "uid-N" when the uid has no passwd entry.
std::string running_user_name();

// BASE/USER for the running user ($MAILPROBE_STATE_BASE or /var/lib/mailprobe as BASE).
std::string default_user_state_dir();

// Creates BASE (as root only) and BASE/USER as described above and checks that BASE/USER
// is a directory owned by us and not writable by others. Failures are UNKNOWN and say the
// fix in words: "create it with: install -d -o nagios -m 0700 /var/lib/mailprobe/nagios".
void prepare_user_state_dir(const std::string& dir);

// "; create it with: install -d -o USER -m 0700 DIR", appended to state directory errors.
std::string create_hint(const std::string& dir);

}  // namespace mailprobe::state
