#include "result/perfdata.hpp"

#include <charconv>
#include <cmath>

namespace mailprobe {

std::string_view unit_suffix(Unit unit) {
    switch (unit) {
        case Unit::none:
            return "";
        case Unit::seconds:
            return "s";
        case Unit::bytes:
            return "B";
        case Unit::percent:
            return "%";
        case Unit::counter:
            return "c";
    }
    return "";
}

static std::string quote_label(const std::string& label) {
    std::string clean;
    for (char c : label) {
        // '=' ends a label and a quote would end the quoting: neither can appear.
        bool control = static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
        clean += (c == '=' || c == '\'' || c == '|' || control) ? '_' : c;
    }
    if (clean.empty()) clean = "_";
    bool plain = true;
    for (char c : clean) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '-' || c == '.';
        plain = plain && ok;
    }
    return plain ? clean : "'" + clean + "'";
}

std::string format_perfdatum(const PerfDatum& d) {
    std::string out = quote_label(d.label) + "=" + format_number(d.value);
    if (std::isfinite(d.value)) out += unit_suffix(d.unit);
    auto opt_number = [](const std::optional<double>& v) {
        return v && std::isfinite(*v) ? format_number(*v) : std::string();
    };
    std::string fields[4] = {d.warning ? d.warning->text() : "",
                             d.critical ? d.critical->text() : "", opt_number(d.min),
                             opt_number(d.max)};
    int last = 3;
    while (last >= 0 && fields[last].empty()) --last;
    for (int i = 0; i <= last; ++i) out += ";" + fields[i];
    return out;
}

PerfDatum seconds_datum(std::string label, double value, const Thresholds* thresholds) {
    PerfDatum d{std::move(label), value, Unit::seconds, std::nullopt,
                std::nullopt,     0.0,   std::nullopt};
    if (thresholds) {
        d.warning = thresholds->warning;
        d.critical = thresholds->critical;
    }
    return d;
}

PerfDatum count_datum(std::string label, double value) {
    PerfDatum d;
    d.label = std::move(label);
    d.value = value;
    d.min = 0.0;
    return d;
}

}  // namespace mailprobe
