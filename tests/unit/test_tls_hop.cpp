#define BOOST_TEST_MODULE tls_hop
#include <boost/test/unit_test.hpp>

#include <string>

#include "relay/received.hpp"
#include "relay/tls.hpp"

using namespace mailprobe::relay;

namespace {

struct Sample {
    std::string what;
    std::string received;  // one unfolded Received value as the MTA writes it
    Transport transport;
    std::string described;  // describe_tls()
};

// Received fields in the form each MTA writes them (hosts, IPs and ids replaced).
const std::vector<Sample> samples{
    {"Postfix smtpd_tls_received_header, TLS 1.3",
     "from relay.test (localhost [127.0.0.1]) (using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 "
     "(256/256 bits) key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest "
     "SHA256) (No client certificate requested) by mx.mail.test (Postfix) with ESMTPS id "
     "4F1C2A7203E for <t01@mail.test>; Fri, 27 Nov 2026 17:32:05 +0000 (UTC)",
     Transport::tls, "TLSv1.3 TLS_AES_256_GCM_SHA384"},
    {"Postfix, older TLS 1.2 note",
     "from mail.example.org (mail.example.org [192.0.2.1]) (using TLSv1.2 with cipher "
     "ECDHE-RSA-AES256-GCM-SHA384 (256/256 bits)) (No client certificate requested) by "
     "mx.example.net (Postfix) with ESMTPS id 3A1B2C; Mon, 2 Oct 2023 08:11:12 +0000 (UTC)",
     Transport::tls, "TLSv1.2 ECDHE-RSA-AES256-GCM-SHA384"},
    {"Postfix without TLS",
     "from relay.test (localhost [127.0.0.1]) by mx.mail.test (Postfix) with ESMTP id "
     "4F1C2A7203E for <t01@mail.test>; Fri, 27 Nov 2026 17:32:05 +0000 (UTC)",
     Transport::plain, "no TLS"},
    {"Exim 4.9x",
     "from mail.example.org ([192.0.2.1]) by mx.example.net with esmtps  (TLS1.3) tls "
     "TLS_AES_256_GCM_SHA384 (Exim 4.96) (envelope-from <a@example.org>) id 1rAbCd-000123-4X "
     "for b@example.net; Tue, 30 Jan 2024 10:00:00 +0100",
     Transport::tls, "TLSv1.3 TLS_AES_256_GCM_SHA384"},
    {"Exim 4.8x",
     "from mail.example.org ([192.0.2.1]) by mx.example.net with esmtps "
     "(TLS1.2:ECDHE_RSA_AES_256_GCM_SHA384:256) (Exim 4.89) (envelope-from <a@example.org>) "
     "id 1aBcDe-0001Xy-Q2 for b@example.net; Mon, 02 Oct 2023 10:11:12 +0200",
     Transport::tls, "TLSv1.2 ECDHE_RSA_AES_256_GCM_SHA384"},
    {"Exim, version= in a custom received_header_text",
     "from mail.example.org by mx.example.net with esmtps (version=TLS1.3 "
     "cipher=TLS_AES_128_GCM_SHA256) id 1x; Mon, 02 Oct 2023 10:11:12 +0200",
     Transport::tls, "TLSv1.3 TLS_AES_128_GCM_SHA256"},
    {"Exim local submission",
     "from alice by host.example.org with local (Exim 4.96) (envelope-from "
     "<alice@example.org>) id 1rAbCd-0001; Tue, 30 Jan 2024 10:00:00 +0100",
     Transport::local, "local"},
    {"Exchange Online",
     "from AM0PR02MB1234.eurprd02.prod.outlook.com (2603:10a6:208:1::1) by "
     "AM0PR02MB5678.eurprd02.prod.outlook.com (2603:10a6:208:2::2) with Microsoft SMTP Server "
     "(version=TLS1_2, cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id 15.20.7228.29; Tue, 30 "
     "Jan 2024 09:00:01 +0000",
     Transport::tls, "TLSv1.2 TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"},
    {"Exchange on-premises, TLS without details",
     "from ex1.example.org (192.0.2.5) by ex2.example.org (192.0.2.6) with Microsoft SMTP Server "
     "(TLS) id 15.0.1497.2; Tue, 30 Jan 2024 09:00:01 +0000",
     Transport::tls, "TLS"},
    {"Exchange without TLS",
     "from ex1.example.org (192.0.2.5) by ex2.example.org (192.0.2.6) with Microsoft SMTP Server "
     "id 15.0.1497.2; Tue, 30 Jan 2024 09:00:01 +0000",
     Transport::plain, "no TLS"},
    {"Gmail inbound",
     "from mail.example.com (mail.example.com. [192.0.2.1]) by mx.google.com with ESMTPS id "
     "d75a77b69052e-42a1b2c3d4si123456cf.12.2024.01.30.01.02.03 for <bob@gmail.com> "
     "(version=TLS1_3 cipher=TLS_AES_256_GCM_SHA384 bits=256/256); Tue, 30 Jan 2024 01:02:03 "
     "-0800 (PST)",
     Transport::tls, "TLSv1.3 TLS_AES_256_GCM_SHA384"},
    {"Gmail internal",
     "from mail-sor-f41.google.com (mail-sor-f41.google.com. [209.85.220.41]) by mx.google.com "
     "with SMTPS id a640c23a62f3a-a9 for <bob@gmail.com> (Google Transport Security); Tue, 30 "
     "Jan 2024 01:02:03 -0800 (PST)",
     Transport::tls, "TLS"},
    {"sendmail",
     "from mail.example.org (mail.example.org [192.0.2.1]) by mx.example.net (8.17.1/8.17.1) "
     "with ESMTPS id 40U9a1b2 (version=TLSv1.3 cipher=TLS_AES_256_GCM_SHA384 bits=256 "
     "verify=NOT) for <b@example.net>; Tue, 30 Jan 2024 10:00:00 +0100",
     Transport::tls, "TLSv1.3 TLS_AES_256_GCM_SHA384"},
    {"RFC 3848 ESMTPSA without a note",
     "from vm (localhost [127.0.0.1]) by relay.test (Postfix) with ESMTPSA id 4F1C2A7203D; Fri, "
     "27 Nov 2026 17:32:04 +0000 (UTC)",
     Transport::tls, "TLS"},
    {"authenticated but plain",
     "from vm by relay.test with ESMTPA id 1; Fri, 27 Nov 2026 17:32:04 +0000", Transport::plain,
     "no TLS"},
    {"Dovecot LMTP delivery",
     "from mx.mail.test by vm with LMTP id kN8FBw6iR2mWJQAAYg (envelope-from <probe@mail.test>) "
     "for <t01@mail.test>; Fri, 27 Nov 2026 17:32:05 +0000",
     Transport::local, "local"},
    {"Postfix pickup (no with)",
     "by relay.test (Postfix, from userid 0) id 4F1C2A72; Fri, 27 Nov 2026 17:32:04 +0000",
     Transport::unknown, "TLS unknown"},
    {"SSLv3 noted",
     "from a by b (using SSLv3 with cipher RC4-SHA (128/128 bits)) with ESMTPS id 1; Mon, 2 Oct "
     "2023 08:11:12 +0000",
     Transport::tls, "SSLv3 RC4-SHA"},
};

}  // namespace

BOOST_AUTO_TEST_CASE(tls_per_hop_from_real_world_received_fields) {
    for (const auto& s : samples) {
        BOOST_TEST_CONTEXT(s.what) {
            const auto r = parse_received(s.received);
            BOOST_TEST_REQUIRE(r.has_value());
            BOOST_TEST(static_cast<int>(r->tls.transport) == static_cast<int>(s.transport));
            BOOST_TEST(describe_tls(r->tls) == s.described);
        }
    }
}

BOOST_AUTO_TEST_CASE(versions) {
    struct V {
        std::string text;
        std::optional<int> value;
    };
    const std::vector<V> table{{"TLSv1.3", 13}, {"TLS1_2", 12}, {"tls1.1", 11},   {"TLSv1", 10},
                               {"TLS1", 10},    {"1.2", 12},    {"SSLv3", 3},     {"TLS2.0", {}},
                               {"TLSv1.4", {}}, {"TLS", {}},    {"TLSv1.23", {}}, {"", {}},
                               {"v1.2", {}},    {"SSLv3.1", {}}};
    for (const auto& v : table) {
        BOOST_TEST_CONTEXT(v.text) {
            BOOST_TEST((parse_tls_version(v.text) == v.value));
        }
    }
    BOOST_TEST(tls_version_name(12) == "TLSv1.2");
    BOOST_TEST(tls_version_name(3) == "SSLv3");
    BOOST_TEST(tls_version_name(std::nullopt).empty());
}

BOOST_AUTO_TEST_CASE(a_tls_note_in_the_date_part_does_not_count) {
    // Only the clauses count: text after the date separator is not the MTA's note.
    const auto r = parse_received(
        "from a by b with ESMTP id 1; Mon, 2 Oct 2023 08:11:12 +0000 (using TLSv1.3 with cipher "
        "X)");
    BOOST_TEST_REQUIRE(r.has_value());
    BOOST_TEST(describe_tls(r->tls) == "no TLS");
}

BOOST_AUTO_TEST_CASE(cipher_text_is_made_safe) {
    TlsInfo t{Transport::tls, 13, "A|B\x01" + std::string(200, 'C')};
    const std::string d = describe_tls(t);
    BOOST_TEST(d.find('|') == std::string::npos);
    BOOST_TEST(d.size() <= 8 + 80);
}

BOOST_AUTO_TEST_CASE(exim_note_at_the_very_end) {
    // Found by fuzz_received: "(TLS1.2" closing the field without ')' read past its end.
    for (const std::string v :
         {"from a by b with esmtps (TLS1.2", "from a by b with esmtps (TLS1.3)",
          "from a by b (using TLSv1.3", "from a by b (version=TLS1_2"}) {
        BOOST_TEST_CONTEXT(v) {
            const auto r = parse_received(v);
            BOOST_TEST_REQUIRE(r.has_value());
            BOOST_TEST(r->tls.encrypted());
        }
    }
}
