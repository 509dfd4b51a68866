"""policyd-spf (Debian's postfix-policyd-spf-python) asking the test stack's dnsmasq.

Spawned by Postfix as the SPF policy service of the MX's verifying port (auth_stack.sh):
    spf_policy.py CONFIG DNS_PORT
policyd-spf resolves through pydns (python3-dns), which takes its name servers from
/etc/resolv.conf; here it asks 127.0.0.1:DNS_PORT instead, and nothing else changes.
"""

import sys

import DNS

DNS.Base.defaults["server"] = ["127.0.0.1"]
DNS.Base.defaults["port"] = int(sys.argv[2])

from spf_engine.policyd_spf import main  # noqa: E402  (after the resolver is set)

sys.argv = ["policyd-spf", sys.argv[1]]
main()
