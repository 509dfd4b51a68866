// The IMAP response pieces we parse ourselves (mailbox/imap_parse.hpp), one server line at a
// time; the input is split at newlines so that one run exercises several lines.
#include "fuzz_common.hpp"
#include "mailbox/imap_parse.hpp"

using namespace mailprobe::mailbox;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text = fuzz::as_view(data, size);
    while (true) {
        auto eol = text.find('\n');
        std::string_view line = text.substr(0, eol);
        if (auto uids = imap::parse_search(line)) {
            for (auto uid : *uids) FUZZ_CHECK(uid != 0);
            std::string set = imap::uid_set(*uids);
            FUZZ_CHECK(uids->empty() == set.empty());
        }
        (void)imap::parse_numbered(line, "EXISTS");
        (void)imap::parse_numbered(line, "EXPUNGE");
        if (auto n = imap::literal_size(line)) FUZZ_CHECK(line.back() == '}');
        (void)imap::fetch_uid(line);
        (void)imap::fetch_internaldate_ms(line);
        if (auto caps = imap::parse_capabilities(line)) {
            for (const auto& c : *caps) FUZZ_CHECK(!c.empty() && c.find(' ') == std::string::npos);
        }
        (void)imap::response_code_number(line, "UIDNEXT");
        (void)imap::response_code_number(line, "UIDVALIDITY");
        std::string q = imap::quote(line);
        FUZZ_CHECK(q.size() >= 2 && q.front() == '"' && q.back() == '"');
        if (eol == std::string_view::npos) break;
        text.remove_prefix(eol + 1);
    }
    return 0;
}
