// check_mailbox_receive: see man check_mailbox_receive(1) or --help.
#include "checks/plugins.hpp"

int main(int argc, char** argv) {
    auto plugin = mailprobe::checks::mailbox_receive_plugin();
    return mailprobe::run_plugin(plugin.spec, argc, argv, plugin.check);
}
