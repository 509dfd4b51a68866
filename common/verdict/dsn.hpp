#pragma once
// Delivery status notifications: RFC 3464 multipart/report (report-type=delivery-status,
// also RFC 6533's global forms) as Postfix, Exchange/Office 365 and Gmail send them, and the
// plain-text bounces of Exim (and older Exchange). What matters for a probe: who reported,
// what happened (failed/delayed), the status and the server's words, and the headers of the
// returned message, which must carry our tag before the DSN is believed to be about a probe.
// Input is untrusted: bounded, never throws.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "probe/probe.hpp"

namespace mailprobe::verdict {

enum class DsnAction { failed, delayed, delivered, relayed, expanded, unknown };

struct Dsn {
    DsnAction action = DsnAction::unknown;
    std::string reporting_mta;     // "mx2.example.org" ("dns;" removed); may be empty
    std::string status;            // "5.1.1"; empty when none was found
    std::string diagnostic;        // "550 5.1.1 <x@y>: ..." ("smtp;" removed); may be empty
    std::string final_recipient;   // "nobody@example.org" ("rfc822;" removed)
    std::string returned_header;   // header block of the returned message (or the text that
                                   // follows a bounce's "copy of the message" marker)
    std::string returned_message;  // the returned message as far as it came back
    bool returned_body = false;    // it includes the body (not headers only)
    std::string verp_to;           // the bounce's own To/Delivered-To (for VERP matching)
    bool standard = false;         // RFC 3464, not a plain-text bounce
};

// nullopt when the message is not a DSN: no delivery-status part and none of the plain-text
// bounce signs (X-Failed-Recipients, a mailer-daemon sender, a bounce subject). A message whose
// own header carries an X-Mailprobe field (a probe itself) is never a DSN.
std::optional<Dsn> parse_dsn(std::string_view message);

enum class DsnMatch {
    not_ours,         // about someone else's mail (or an older probe of ours)
    ours,             // the returned message verifies as our awaited probe (tag over it)
    ours_unverified,  // headers only, or only the VERP address, name an awaited probe:
                      // reported, never deleted
    forged,           // quotes a tag in our name that does not verify: ignore, never delete
};

struct DsnReference {
    DsnMatch match = DsnMatch::not_ours;
    std::string probe_id;  // the awaited id it refers to (ours / ours_unverified)
};

// Which of the awaited probes (ids) the DSN refers to, proven by the returned message's
// X-Mailprobe tag, or by an awaited id in a VERP address "local+<id>@domain".
DsnReference refers_to(const Dsn& dsn, const probe::Identity& identity,
                       const std::vector<std::string>& awaited_ids);

// "probe bounced by mx2.example.org: 5.1.1 550 5.1.1 <x@y>: User unknown" or
// "delayed at mx2.example.org: 4.4.1 ..."; bounded, control bytes and '|' replaced.
std::string describe(const Dsn& dsn);

const char* action_name(DsnAction action);

}  // namespace mailprobe::verdict
