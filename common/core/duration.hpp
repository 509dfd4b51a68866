#pragma once
// Durations for the text a human reads (status line, long output). Perfdata keeps full
// precision in seconds (format_number); this is the one place that rounds for people.
#include <string>

namespace mailprobe {

// "0 s", "0.4 ms", "16 ms", "1.4 s", "42 s", "2 min 5 s", "1 h 5 min", "2 d 3 h": two significant
// units at most, always a space before the unit, one decimal below 10 s (so a measured "1.0 s" and
// "6.9 s" read alike) except for a whole number of seconds, which is a configured time
// ("timeout after 3 s"). Negative values (clocks of two machines) keep their sign;
// non-finite ones read "unknown time".
std::string human_duration(double seconds);

}  // namespace mailprobe
