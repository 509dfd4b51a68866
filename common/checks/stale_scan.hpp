#pragma once
// Where the stale-probe scan of each folder left off, kept in the state directory between
// runs: the clean-up search then only covers mail that arrived since the previous run, so
// its cost does not grow with the mailbox (issue 15). Losing the file costs one whole-folder
// scan, never a missed probe.
#include <optional>
#include <string>
#include <vector>

#include "mailbox/session.hpp"

namespace mailprobe::checks {

class StaleScanMemory {
public:
    // The marks for this mailbox and probe name; unusable state directory or file -> no marks
    // (whole folders are scanned) and a note.
    static StaleScanMemory load(const std::optional<std::string>& state_dir,
                                const std::string& mailbox, const probe::Identity& identity);

    mailbox::ScanMarks& marks() { return m_marks; }
    // Writes the marks back; a failure only adds a note (the next run scans whole folders).
    void save();
    const std::vector<std::string>& notes() const { return m_notes; }

    // Text form: "mailprobe-scan 1" then one "<uidvalidity> <uid> <escaped folder>" per line.
    static std::string serialize(const mailbox::ScanMarks& marks);
    static std::optional<mailbox::ScanMarks> parse(const std::string& text);

private:
    std::string m_path;  // empty: nowhere to keep them
    mailbox::ScanMarks m_marks;
    std::vector<std::string> m_notes;
};

}  // namespace mailprobe::checks
