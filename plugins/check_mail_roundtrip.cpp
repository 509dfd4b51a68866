// check_mail_roundtrip: see man check_mail_roundtrip(1) or --help.
#include "checks/plugins.hpp"

int main(int argc, char** argv) {
    auto plugin = mailprobe::checks::roundtrip_plugin();
    return mailprobe::run_plugin(plugin.spec, argc, argv, plugin.check);
}
