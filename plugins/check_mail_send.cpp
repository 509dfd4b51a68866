// check_mail_send: see man check_mail_send(1) or --help.
#include "checks/plugins.hpp"

int main(int argc, char** argv) {
    auto plugin = mailprobe::checks::mail_send_plugin();
    return mailprobe::run_plugin(plugin.spec, argc, argv, plugin.check);
}
