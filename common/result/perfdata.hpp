#pragma once
// Performance data in the plugin guidelines' format: 'label'=value[UOM];warn;crit;min;max
#include <optional>
#include <string>

#include "core/number.hpp"
#include "result/range.hpp"

namespace mailprobe {

// Only the units every consumer reads the same way (Icinga reads "m" as minutes).
enum class Unit { none, seconds, bytes, percent, counter };

struct PerfDatum {
    std::string label;
    double value = 0;
    Unit unit = Unit::none;
    std::optional<Range> warning;
    std::optional<Range> critical;
    std::optional<double> min;
    std::optional<double> max;
};

std::string format_perfdatum(const PerfDatum& datum);
std::string_view unit_suffix(Unit unit);

// Convenience for the common case: a time in seconds, min 0.
PerfDatum seconds_datum(std::string label, double value, const Thresholds* thresholds = nullptr);
// A plain number (a count per run, not a counter), min 0.
PerfDatum count_datum(std::string label, double value);

}  // namespace mailprobe
