#include "checks/stale_scan.hpp"

#include <charconv>
#include <sstream>

#include "result/failure.hpp"
#include "state/model.hpp"
#include "state/posix.hpp"
#include "state/store.hpp"

namespace mailprobe::checks {

namespace {
constexpr std::string_view k_magic = "mailprobe-scan 1";
constexpr std::size_t k_max_size = 1 << 20;

std::optional<std::uint32_t> number(std::string_view s) {
    std::uint32_t v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
    return v;
}
}  // namespace

StaleScanMemory StaleScanMemory::load(const std::optional<std::string>& state_dir,
                                      const std::string& mailbox, const probe::Identity& identity) {
    StaleScanMemory m;
    try {
        auto dir = state::StateDir::open(state_dir);
        std::string path = dir.state_path("stale-scan " + mailbox + " n=" + identity.name_digest());
        m.m_path = path.substr(0, path.size() - 6) + ".scan";  // ".state" -> ".scan"
        if (auto text = state::detail::read_file(m.m_path, k_max_size, "scan file")) {
            if (auto marks = parse(*text)) {
                m.m_marks = std::move(*marks);
            } else {
                m.m_notes.push_back(m.m_path +
                                    " is corrupt: stale probes searched in whole folders");
            }
        }
    } catch (const CheckFailure& e) {
        m.m_path.clear();
        m.m_notes.push_back(std::string("stale probes searched in whole folders: ") + e.what());
    }
    return m;
}

void StaleScanMemory::save() {
    if (m_path.empty()) return;
    try {
        state::detail::replace_file_atomically(m_path, serialize(m_marks));
    } catch (const CheckFailure& e) {
        m_notes.push_back(std::string("stale-probe scan position not saved: ") + e.what());
    }
}

std::string StaleScanMemory::serialize(const mailbox::ScanMarks& marks) {
    std::string out = std::string(k_magic) + "\n";
    for (const auto& [folder, mark] : marks) {
        out += std::to_string(mark.uidvalidity) + " " + std::to_string(mark.uid) + " " +
               state::escape_value(folder) + "\n";
    }
    return out;
}

std::optional<mailbox::ScanMarks> StaleScanMemory::parse(const std::string& text) {
    std::istringstream in(text);
    std::string line;
    if (!std::getline(in, line) || line != k_magic) return std::nullopt;
    mailbox::ScanMarks marks;
    while (std::getline(in, line)) {
        auto a = line.find(' ');
        auto b = a == std::string::npos ? a : line.find(' ', a + 1);
        if (b == std::string::npos) return std::nullopt;
        auto validity = number(std::string_view(line).substr(0, a));
        auto uid = number(std::string_view(line).substr(a + 1, b - a - 1));
        auto folder = state::unescape_value(std::string_view(line).substr(b + 1));
        if (!validity || !uid || !folder || folder->empty()) return std::nullopt;
        marks[*folder] = mailbox::ScanMark{*validity, *uid};
    }
    return marks;
}

}  // namespace mailprobe::checks
