// check_mail_relay: see man check_mail_relay(1) or --help.
#include "checks/plugins.hpp"

int main(int argc, char** argv) {
    auto plugin = mailprobe::checks::relay_plugin();
    return mailprobe::run_plugin(plugin.spec, argc, argv, plugin.check);
}
