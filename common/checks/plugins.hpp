#pragma once
// The four plugins as data: name, description, option table and check function. The
// plugin mains run them; the man page generator reads the same tables.
#include <vector>

#include "plugin/runner.hpp"

namespace mailprobe::checks {

struct PluginEntry {
    PluginSpec spec;
    CheckFunction check;
};

PluginEntry mail_send_plugin();
PluginEntry roundtrip_plugin();
PluginEntry relay_plugin();
PluginEntry mailbox_receive_plugin();
std::vector<PluginEntry> all_plugins();

}  // namespace mailprobe::checks
