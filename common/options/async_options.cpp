#include "options/async_options.hpp"

#include "core/number.hpp"

namespace mailprobe {

void add_async_options(OptionSet& o) {
    o.section("Asynchronous mode (long delivery windows)")
        .flag("async", 0,
              "Judge probes across runs: collect the ones that arrived since the last run, "
              "send a fresh one, keep the bookkeeping in STATE-DIR; -w/-c then apply to the "
              "age of undelivered probes and to the last delivery time")
        .value("give-up", 0, "SECONDS",
               "With --async: a probe older than this is reported lost once and forgotten",
               format_number(AsyncOptions::default_give_up_s));
}

AsyncOptions async_options_from(const ParsedOptions& p) {
    AsyncOptions a;
    a.enabled = p.has("async");
    a.give_up_s = p.seconds("give-up").value_or(AsyncOptions::default_give_up_s);
    a.state_dir = p.get("state-dir");
    a.wait_given = p.has("wait");
    return a;
}

}  // namespace mailprobe
