#define BOOST_TEST_MODULE render
#include <openssl/evp.h>

#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <cctype>
#include <limits>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "core/sanitize.hpp"
#include "core/secrets.hpp"
#include "output/render.hpp"

using namespace mailprobe;

namespace {

// ---- a tiny strict JSON parser (RFC 8259), enough to check the renderer's output ----

struct Json {
    enum Type { null, boolean, number, string, array, object } type = null;
    bool b = false;
    double num = 0;
    std::string str;
    std::vector<Json> items;
    std::vector<std::pair<std::string, Json>> members;

    const Json* get(const std::string& key) const {
        for (const auto& [k, v] : members) {
            if (k == key) return &v;
        }
        return nullptr;
    }
};

class JsonParser {
public:
    explicit JsonParser(std::string_view text) : m_s(text) {}

    // Throws std::runtime_error on any syntax error or trailing garbage.
    Json parse_document() {
        Json v = value();
        ws();
        if (m_i != m_s.size()) fail("trailing characters");
        return v;
    }

private:
    [[noreturn]] void fail(const std::string& why) {
        throw std::runtime_error("JSON error at " + std::to_string(m_i) + ": " + why);
    }
    void ws() {
        while (m_i < m_s.size() &&
               (m_s[m_i] == ' ' || m_s[m_i] == '\n' || m_s[m_i] == '\r' || m_s[m_i] == '\t'))
            ++m_i;
    }
    char peek() {
        if (m_i >= m_s.size()) fail("unexpected end");
        return m_s[m_i];
    }
    void expect(char c) {
        if (peek() != c) fail(std::string("expected '") + c + "'");
        ++m_i;
    }
    void literal(std::string_view word) {
        if (m_s.substr(m_i, word.size()) != word) fail("bad literal");
        m_i += word.size();
    }
    Json value() {
        ws();
        Json v;
        char c = peek();
        if (c == '{') {
            v.type = Json::object;
            ++m_i;
            ws();
            if (peek() == '}') {
                ++m_i;
                return v;
            }
            for (;;) {
                ws();
                std::string key = string_body();
                ws();
                expect(':');
                v.members.emplace_back(key, value());
                ws();
                if (peek() == ',') {
                    ++m_i;
                    continue;
                }
                expect('}');
                return v;
            }
        }
        if (c == '[') {
            v.type = Json::array;
            ++m_i;
            ws();
            if (peek() == ']') {
                ++m_i;
                return v;
            }
            for (;;) {
                v.items.push_back(value());
                ws();
                if (peek() == ',') {
                    ++m_i;
                    continue;
                }
                expect(']');
                return v;
            }
        }
        if (c == '"') {
            v.type = Json::string;
            v.str = string_body();
            return v;
        }
        if (c == 't') {
            literal("true");
            v.type = Json::boolean;
            v.b = true;
            return v;
        }
        if (c == 'f') {
            literal("false");
            v.type = Json::boolean;
            return v;
        }
        if (c == 'n') {
            literal("null");
            return v;
        }
        v.type = Json::number;
        v.num = number();
        return v;
    }
    double number() {
        std::size_t start = m_i;
        if (peek() == '-') ++m_i;
        if (peek() == '0') {
            ++m_i;
        } else if (peek() >= '1' && peek() <= '9') {
            while (m_i < m_s.size() && std::isdigit(static_cast<unsigned char>(m_s[m_i]))) ++m_i;
        } else {
            fail("bad number");
        }
        if (m_i < m_s.size() && m_s[m_i] == '.') {
            ++m_i;
            if (!std::isdigit(static_cast<unsigned char>(peek()))) fail("bad fraction");
            while (m_i < m_s.size() && std::isdigit(static_cast<unsigned char>(m_s[m_i]))) ++m_i;
        }
        if (m_i < m_s.size() && (m_s[m_i] == 'e' || m_s[m_i] == 'E')) {
            ++m_i;
            if (peek() == '+' || peek() == '-') ++m_i;
            if (!std::isdigit(static_cast<unsigned char>(peek()))) fail("bad exponent");
            while (m_i < m_s.size() && std::isdigit(static_cast<unsigned char>(m_s[m_i]))) ++m_i;
        }
        return std::stod(std::string(m_s.substr(start, m_i - start)));
    }
    std::string string_body() {
        expect('"');
        std::string out;
        for (;;) {
            unsigned char c = static_cast<unsigned char>(peek());
            ++m_i;
            if (c == '"') return out;
            if (c < 0x20) fail("raw control character in string");
            if (c != '\\') {
                out += static_cast<char>(c);
                continue;
            }
            char e = peek();
            ++m_i;
            switch (e) {
                case '"':
                case '\\':
                case '/':
                    out += e;
                    break;
                case 'b':
                    out += '\b';
                    break;
                case 'f':
                    out += '\f';
                    break;
                case 'n':
                    out += '\n';
                    break;
                case 'r':
                    out += '\r';
                    break;
                case 't':
                    out += '\t';
                    break;
                case 'u': {
                    if (m_i + 4 > m_s.size()) fail("short \\u");
                    unsigned code = 0;
                    for (int k = 0; k < 4; ++k) {
                        char h = m_s[m_i++];
                        code <<= 4;
                        if (h >= '0' && h <= '9') {
                            code |= static_cast<unsigned>(h - '0');
                        } else if (h >= 'a' && h <= 'f') {
                            code |= static_cast<unsigned>(h - 'a' + 10);
                        } else if (h >= 'A' && h <= 'F') {
                            code |= static_cast<unsigned>(h - 'A' + 10);
                        } else {
                            fail("bad \\u digit");
                        }
                    }
                    if (code >= 0x80) fail("test parser handles only ASCII \\u escapes");
                    out += static_cast<char>(code);
                    break;
                }
                default:
                    fail("bad escape");
            }
        }
    }

    std::string_view m_s;
    std::size_t m_i = 0;
};

Json parse_json(const std::string& text) {
    return JsonParser(text).parse_document();
}

// Strict UTF-8 (RFC 3629): no overlongs, no surrogates, nothing above U+10FFFF.
bool valid_utf8(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
        unsigned char c = static_cast<unsigned char>(s[i]);
        std::size_t n;
        unsigned cp;
        if (c < 0x80) {
            ++i;
            continue;
        } else if (c >= 0xc2 && c <= 0xdf) {
            n = 2;
            cp = c & 0x1fu;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 3;
            cp = c & 0x0fu;
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 4;
            cp = c & 0x07u;
        } else {
            return false;
        }
        if (i + n > s.size()) return false;
        for (std::size_t k = 1; k < n; ++k) {
            unsigned char d = static_cast<unsigned char>(s[i + k]);
            if ((d & 0xc0) != 0x80) return false;
            cp = (cp << 6) | (d & 0x3fu);
        }
        if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += n;
    }
    return true;
}

std::vector<std::string> split_lines(const std::string& out) {
    std::vector<std::string> lines;
    std::size_t start = 0;
    while (start < out.size()) {
        auto nl = out.find('\n', start);
        if (nl == std::string::npos) {
            lines.push_back(out.substr(start));
            break;
        }
        lines.push_back(out.substr(start, nl - start));
        start = nl + 1;
    }
    return lines;
}

std::string base64(std::string_view data) {
    std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
    int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<const unsigned char*>(data.data()),
                            static_cast<int>(data.size()));
    out.resize(static_cast<std::size_t>(n));
    return out;
}

CheckResult node(Status s, std::string summary) {
    CheckResult r;
    r.status = s;
    r.summary = std::move(summary);
    return r;
}

PerfDatum perf(std::string label, double value, Unit unit = Unit::seconds) {
    PerfDatum d;
    d.label = std::move(label);
    d.value = value;
    d.unit = unit;
    return d;
}

RenderOptions json_options() {
    RenderOptions o;
    o.json = true;
    return o;
}

// Clears the secret registry before and after every test.
struct CleanSecrets {
    CleanSecrets() { secrets::clear(); }
    ~CleanSecrets() { secrets::clear(); }
};

const std::string k_secret = "s3cretPassw0rd";

}  // namespace

BOOST_FIXTURE_TEST_SUITE(nagios_output, CleanSecrets)

BOOST_AUTO_TEST_CASE(first_line_layout) {
    CheckResult r = node(Status::ok, "message delivered in 1.2s");
    r.perfdata.push_back(perf("time", 1.25));
    BOOST_TEST(render("MAILPROBE", r) == "MAILPROBE OK - message delivered in 1.2s | time=1.25s\n");
}

BOOST_AUTO_TEST_CASE(no_perfdata_no_pipe) {
    CheckResult r = node(Status::warning, "slow");
    BOOST_TEST(render("SMTP", r) == "SMTP WARNING - slow\n");
}

BOOST_AUTO_TEST_CASE(state_is_the_trees_worst) {
    CheckResult r = node(Status::ok, "summary");
    r.add_child(node(Status::ok, "fine")).add_child(node(Status::critical, "broken"));
    std::string out = render("SMTP", r);
    // The grandchild alerts: line 1 names it behind the summary (result::line_summary).
    BOOST_TEST(out.rfind("SMTP CRITICAL - summary; broken\n", 0) == 0, out);
}

BOOST_AUTO_TEST_CASE(perfdata_collected_from_children) {
    CheckResult r = node(Status::ok, "all good");
    r.perfdata.push_back(perf("time", 3));
    auto& smtp = r.add_child(node(Status::ok, "sent"));
    smtp.perfdata.push_back(perf("smtp_connect", 0.5));
    smtp.add_child(node(Status::ok, "tls")).perfdata.push_back(perf("smtp_tls", 0.25));
    r.add_child(node(Status::ok, "found")).perfdata.push_back(perf("mailbox_search", 1));
    auto lines = split_lines(render("RT", r));
    BOOST_TEST_REQUIRE(!lines.empty());
    BOOST_TEST(lines[0] ==
               "RT OK - all good | time=3s smtp_connect=0.5s smtp_tls=0.25s mailbox_search=1s");
    // Perfdata appears once, on the first line only.
    for (std::size_t i = 1; i < lines.size(); ++i) {
        BOOST_TEST(lines[i].find('|') == std::string::npos, lines[i]);
        BOOST_TEST(lines[i].find("=0.5s") == std::string::npos, lines[i]);
    }
}

BOOST_AUTO_TEST_CASE(pipe_never_in_human_text) {
    CheckResult r = node(Status::critical, "server said 550 a|b || c");
    r.details.push_back("detail | with pipe");
    r.add_child(node(Status::critical, "child|summary"));
    r.perfdata.push_back(perf("time", 1));
    std::string out = render("SMTP", r);
    auto lines = split_lines(out);
    BOOST_TEST_REQUIRE(lines.size() == 3u);
    // Exactly one '|' on the first line: the perfdata separator.
    auto first_pipe = lines[0].find('|');
    BOOST_TEST(first_pipe == lines[0].find(" | time=1s") + 1, lines[0]);
    BOOST_TEST(lines[0].find('|', first_pipe + 1) == std::string::npos, lines[0]);
    BOOST_TEST(lines[1].find('|') == std::string::npos, lines[1]);
    BOOST_TEST(lines[2].find('|') == std::string::npos, lines[2]);
    BOOST_TEST(lines[0].find("550 a") != std::string::npos);  // the text itself survives
}

BOOST_AUTO_TEST_CASE(newlines_and_controls_in_summary) {
    CheckResult r = node(Status::critical, "line one\r\nline two\x1b[31m\x07\ttab\x7f end");
    std::string out = render("SMTP", r);
    BOOST_TEST(out.find('\r') == std::string::npos);
    auto lines = split_lines(out);
    BOOST_TEST_REQUIRE(lines.size() == 1u, out);
    for (char c : lines[0]) {
        auto u = static_cast<unsigned char>(c);
        BOOST_TEST((u >= 0x20 && u != 0x7f), "control byte " << int(u));
    }
    BOOST_TEST(lines[0].find("line one line two") != std::string::npos, lines[0]);
}

BOOST_AUTO_TEST_CASE(invalid_utf8_replaced) {
    CheckResult r = node(Status::critical, "bad \xff\xfe bytes \xc3");
    r.add_child(node(Status::critical, "child \x80 text"));
    r.details.push_back("detail \xe2\x82 cut");
    std::string out = render("SMTP", r);
    BOOST_TEST(valid_utf8(out));
    BOOST_TEST(out.find("bad ?? bytes ?") != std::string::npos, out);
}

BOOST_AUTO_TEST_CASE(valid_utf8_kept) {
    CheckResult r = node(Status::ok, "Zustellung für Jürgen ✓");
    BOOST_TEST(render("SMTP", r) == "SMTP OK - Zustellung für Jürgen ✓\n");
}

BOOST_AUTO_TEST_CASE(long_output_layout) {
    CheckResult r = node(Status::ok, "overall");
    r.details.push_back("root detail");
    auto& smtp = r.add_child(node(Status::ok, "SMTP accepted"));
    smtp.details.push_back("queue id 4F1C");
    smtp.add_child(node(Status::warning, "TLS slow"));
    r.add_child(node(Status::critical, "not found in mailbox"));
    BOOST_TEST(render("RT", r) ==
               "RT CRITICAL - overall; TLS slow; not found in mailbox\n"
               "root detail\n"
               "[WARNING] SMTP accepted\n"
               "  queue id 4F1C\n"
               "  [WARNING] TLS slow\n"
               "[CRITICAL] not found in mailbox\n");
}

BOOST_AUTO_TEST_CASE(deep_indentation) {
    CheckResult r = node(Status::ok, "root");
    CheckResult* cur = &r;
    for (int i = 1; i <= 4; ++i)
        cur = &cur->add_child(node(Status::ok, "level" + std::to_string(i)));
    auto lines = split_lines(render("X", r));
    BOOST_TEST_REQUIRE(lines.size() == 5u);
    BOOST_TEST(lines[1] == "[OK] level1");
    BOOST_TEST(lines[2] == "  [OK] level2");
    BOOST_TEST(lines[3] == "    [OK] level3");
    BOOST_TEST(lines[4] == "      [OK] level4");
}

BOOST_AUTO_TEST_CASE(lf_endings_only) {
    CheckResult r = node(Status::warning, "a\r\nb");
    r.details.push_back("c\r\nd\re");
    r.add_child(node(Status::warning, "f\r\n"));
    std::string out = render("S", r);
    BOOST_TEST(out.find('\r') == std::string::npos);
    BOOST_TEST(out.back() == '\n');
    BOOST_TEST(out.find("\n\n") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(output_capped_with_marker) {
    CheckResult r = node(Status::critical, "many lines");
    for (int i = 0; i < 200; ++i) r.details.push_back(std::string(500, 'x') + std::to_string(i));
    std::string out = render("SMTP", r);
    BOOST_TEST(out.size() <= 8000u, "size " << out.size());
    BOOST_TEST(out.size() > 7000u, "size " << out.size());
    BOOST_TEST(out.find("(output truncated)\n") != std::string::npos);
    BOOST_TEST(out.rfind("(output truncated)\n") == out.size() - 19);
    BOOST_TEST(out.rfind("SMTP CRITICAL - many lines\n", 0) == 0);
}

BOOST_AUTO_TEST_CASE(cap_holds_for_every_line_length) {
    // Whatever the line lengths, the output (marker included) stays within max_bytes.
    for (std::size_t len = 10; len <= 1000; len += 7) {
        CheckResult r = node(Status::critical, "s");
        for (std::size_t i = 0; i < 9000 / len + 5; ++i) r.details.push_back(std::string(len, 'y'));
        std::string out = render("SMTP", r);
        BOOST_TEST(out.size() <= 8000u, "line length " << len << ": size " << out.size());
        BOOST_TEST(out.find("(output truncated)") != std::string::npos);
    }
}

BOOST_AUTO_TEST_CASE(cap_respects_custom_max_bytes) {
    CheckResult r = node(Status::ok, "summary");
    for (int i = 0; i < 50; ++i) r.details.push_back("detail line number " + std::to_string(i));
    RenderOptions options;
    options.max_bytes = 200;
    std::string out = render("SVC", r, options);
    BOOST_TEST(out.size() <= 200u, "size " << out.size() << "\n" << out);
    BOOST_TEST(out.find("(output truncated)") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(short_output_not_truncated) {
    CheckResult r = node(Status::ok, "summary");
    for (int i = 0; i < 10; ++i) r.details.push_back("line " + std::to_string(i));
    std::string out = render("SVC", r);
    BOOST_TEST(out.find("truncated") == std::string::npos);
    BOOST_TEST(out.find("line 9\n") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(details_need_their_verbosity) {
    CheckResult r = node(Status::ok, "summary");
    r.add_detail("always");
    r.add_detail("server reply", Verbosity::verbose);
    auto& stage = r.add_child(node(Status::ok, "stage"));
    stage.add_detail("connect 1 ms", Verbosity::timings);
    stage.add_detail("C: EHLO", Verbosity::transcript);
    const std::vector<std::string> expected[] = {
        {"SVC OK - summary", "always", "[OK] stage"},
        {"SVC OK - summary", "always", "server reply", "[OK] stage"},
        {"SVC OK - summary", "always", "server reply", "[OK] stage", "  connect 1 ms"},
        {"SVC OK - summary", "always", "server reply", "[OK] stage", "  connect 1 ms", "  C: EHLO"},
    };
    for (int v = 0; v < 4; ++v) {
        RenderOptions options;
        options.verbosity = v;
        BOOST_TEST(split_lines(render("SVC", r, options)) == expected[v],
                   boost::test_tools::per_element());
    }
    RenderOptions json;
    json.json = true;
    BOOST_TEST(render("SVC", r, json).find("server reply") == std::string::npos);
    json.verbosity = 1;
    BOOST_TEST(render("SVC", r, json).find("server reply") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(summary_falls_back_to_worst_children) {
    CheckResult r;
    r.add_child(node(Status::critical, "SMTP refused"));
    r.add_child(node(Status::ok, "DNS fine"));
    r.add_child(node(Status::warning, "slow"));
    r.add_child(node(Status::critical, "mailbox down"));
    auto lines = split_lines(render("RT", r));
    BOOST_TEST_REQUIRE(!lines.empty());
    BOOST_TEST(lines[0] == "RT CRITICAL - SMTP refused; mailbox down");
}

BOOST_AUTO_TEST_CASE(summary_fallback_recurses) {
    CheckResult r;
    auto& mid = r.add_child(node(Status::ok, ""));
    mid.add_child(node(Status::ok, "ok part"));
    mid.add_child(node(Status::unknown, "cannot resolve"));
    r.add_child(node(Status::warning, "slow"));
    auto lines = split_lines(render("RT", r));
    BOOST_TEST_REQUIRE(!lines.empty());
    BOOST_TEST(lines[0] == "RT UNKNOWN - cannot resolve");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(json_output, CleanSecrets)

BOOST_AUTO_TEST_CASE(one_valid_object) {
    CheckResult r = node(Status::warning, "delivered slowly");
    r.perfdata.push_back(perf("time", 12.5));
    auto& c = r.add_child(node(Status::ok, "sent"));
    c.perfdata.push_back(perf("smtp_connect", 0.25));
    c.details.push_back("queue id ABC");
    std::string out = render("RT", r, json_options());
    BOOST_TEST(out.back() == '\n');
    BOOST_TEST(std::count(out.begin(), out.end(), '\n') == 1);
    Json j;
    BOOST_REQUIRE_NO_THROW(j = parse_json(out));
    BOOST_TEST_REQUIRE(j.type == Json::object);
    const Json* state = j.get("state");
    BOOST_TEST_REQUIRE(state);
    BOOST_TEST(state->str == "WARNING");
    const Json* code = j.get("exit_code");
    BOOST_TEST_REQUIRE(code);
    BOOST_TEST(code->type == Json::number);
    BOOST_TEST(code->num == 1.0);
    const Json* summary = j.get("summary");
    BOOST_TEST_REQUIRE(summary);
    BOOST_TEST(summary->str == "delivered slowly");
    const Json* service = j.get("service");
    BOOST_TEST_REQUIRE(service);
    BOOST_TEST(service->str == "RT");
    const Json* metrics = j.get("metrics");
    BOOST_TEST_REQUIRE(metrics);
    BOOST_TEST_REQUIRE(metrics->type == Json::object);
    BOOST_TEST_REQUIRE(metrics->members.size() == 2u);
    BOOST_TEST(metrics->get("time")->type == Json::number);
    BOOST_TEST(metrics->get("time")->num == 12.5);
    BOOST_TEST(metrics->get("smtp_connect")->num == 0.25);
    const Json* details = j.get("details");
    BOOST_TEST_REQUIRE(details);
    BOOST_TEST_REQUIRE(details->type == Json::array);
    BOOST_TEST_REQUIRE(details->items.size() == 2u);
    BOOST_TEST(details->items[0].str == "[OK] sent");
    BOOST_TEST(details->items[1].str == "  queue id ABC");
}

BOOST_AUTO_TEST_CASE(exit_codes_and_states) {
    for (auto [s, name, code] :
         {std::tuple{Status::ok, "OK", 0}, std::tuple{Status::warning, "WARNING", 1},
          std::tuple{Status::critical, "CRITICAL", 2}, std::tuple{Status::unknown, "UNKNOWN", 3}}) {
        CheckResult r;
        r.add_child(node(s, "x"));
        Json j = parse_json(render("S", r, json_options()));
        BOOST_TEST(j.get("state")->str == name);
        BOOST_TEST(j.get("exit_code")->num == static_cast<double>(code));
    }
}

BOOST_AUTO_TEST_CASE(empty_metrics_and_details) {
    Json j = parse_json(render("S", node(Status::ok, "fine"), json_options()));
    BOOST_TEST(j.get("metrics")->type == Json::object);
    BOOST_TEST(j.get("metrics")->members.empty());
    BOOST_TEST(j.get("details")->type == Json::array);
    BOOST_TEST(j.get("details")->items.empty());
}

BOOST_AUTO_TEST_CASE(non_finite_metric_is_null) {
    CheckResult r = node(Status::ok, "x");
    r.perfdata.push_back(perf("t", std::numeric_limits<double>::quiet_NaN()));
    Json j = parse_json(render("S", r, json_options()));
    BOOST_TEST_REQUIRE(j.get("metrics")->get("t"));
    BOOST_TEST(j.get("metrics")->get("t")->type == Json::null);
}

BOOST_AUTO_TEST_CASE(quotes_and_controls_escaped) {
    CheckResult r = node(Status::critical, "he said \"no\" \\ back\tslash\x01");
    r.details.push_back("detail \"quoted\" \\ \x02");
    PerfDatum d = perf("we\"ird\\label\n", 1);
    r.perfdata.push_back(d);
    std::string service = "svc \"quoted\"\t\\";
    std::string out = render(service, r, json_options());
    Json j;
    BOOST_REQUIRE_NO_THROW(j = parse_json(out));
    BOOST_TEST(j.get("service")->str == service);
    BOOST_TEST(j.get("summary")->str == "he said \"no\" \\ back slash");
    BOOST_TEST(j.get("details")->items.at(0).str == "detail \"quoted\" \\");
    BOOST_TEST(j.get("metrics")->members.at(0).first == "we\"ird\\label\n");
}

BOOST_AUTO_TEST_CASE(json_is_valid_utf8) {
    CheckResult r = node(Status::critical, "bad \xff bytes");
    r.details.push_back("\xc3");
    r.add_child(node(Status::critical, "child \xfe"));
    std::string out = render("S", r, json_options());
    BOOST_TEST(valid_utf8(out));
    BOOST_REQUIRE_NO_THROW(parse_json(out));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(secret_scrubbing, CleanSecrets)

// A result that carries the secret in every human-readable place, plainly and in base64.
CheckResult leaky_result(const std::string& secret) {
    CheckResult r = node(Status::critical, "login failed with password " + secret);
    r.details.push_back("C: AUTH PLAIN " + base64(std::string("\0user\0", 6) + secret));
    r.details.push_back("C: " + base64(secret));
    r.details.push_back("C: " + base64("user" + std::string(1, '\0') + secret));
    r.details.push_back("C: " + base64("xy" + secret + "tail"));  // another alignment
    auto& c = r.add_child(node(Status::critical, "server echoed " + secret + " back"));
    c.details.push_back("pass=" + secret + ";");
    r.perfdata.push_back(perf("time", 1));
    return r;
}

void check_no_leak(const std::string& out, const std::string& secret) {
    BOOST_TEST(out.find(secret) == std::string::npos, out);
    for (const auto& form :
         {base64(std::string("\0user\0", 6) + secret), base64(secret),
          base64("user" + std::string(1, '\0') + secret), base64("xy" + secret + "tail")}) {
        BOOST_TEST(out.find(form) == std::string::npos, "base64 form " << form << " in\n" << out);
    }
}

BOOST_AUTO_TEST_CASE(plain_output_never_shows_the_secret) {
    secrets::register_secret(k_secret);
    std::string out = render("SMTP", leaky_result(k_secret));
    check_no_leak(out, k_secret);
    // The rest of the text survives.
    BOOST_TEST(out.find("login failed with password") != std::string::npos);
    BOOST_TEST(out.find("C: AUTH PLAIN ") != std::string::npos);
    BOOST_TEST(out.find("********") != std::string::npos);
    BOOST_TEST(out.find(" | time=1s") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(json_output_never_shows_the_secret) {
    secrets::register_secret(k_secret);
    std::string out = render("SMTP", leaky_result(k_secret), json_options());
    check_no_leak(out, k_secret);
    BOOST_REQUIRE_NO_THROW(parse_json(out));
}

BOOST_AUTO_TEST_CASE(without_registration_nothing_is_hidden) {
    // Shows the leak checks detect the secret at all.
    std::string out = render("SMTP", leaky_result(k_secret));
    BOOST_TEST(out.find(k_secret) != std::string::npos);
    BOOST_TEST(out.find(base64(std::string("\0user\0", 6) + k_secret)) != std::string::npos);
    BOOST_TEST(out.find("********") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(clear_forgets_secrets) {
    secrets::register_secret(k_secret);
    secrets::clear();
    BOOST_TEST(secrets::scrub("x " + k_secret) == "x " + k_secret);
}

BOOST_AUTO_TEST_CASE(scrub_every_occurrence) {
    secrets::register_secret(k_secret);
    BOOST_TEST(secrets::scrub(k_secret + k_secret + " and " + k_secret) ==
               "**************** and ********");
}

BOOST_AUTO_TEST_CASE(secret_the_mask_contains_terminates) {
    // Found by fuzz/fuzz_secrets: "****" is inside the mask, and scrubbing looped forever.
    secrets::register_secret("****");
    BOOST_TEST(secrets::scrub("a **** b") == "a ******** b");
    secrets::clear();
    secrets::register_secret("********");
    BOOST_TEST(secrets::scrub("********") == "********");
}

BOOST_AUTO_TEST_CASE(several_secrets) {
    secrets::register_secret(k_secret);
    secrets::register_secret("an0ther-key-value");
    std::string out = secrets::scrub("a " + k_secret + " b an0ther-key-value c");
    BOOST_TEST(out == "a ******** b ******** c");
}

BOOST_AUTO_TEST_CASE(secret_with_pipe_not_revealed_after_sanitizing) {
    // '|' is common in passwords; the status line turns it into '/'.
    const std::string secret = "pa|ssw0rd!";
    secrets::register_secret(secret);
    std::string out = render("SMTP", node(Status::critical, "rejected " + secret));
    BOOST_TEST(out.find("ssw0rd!") == std::string::npos, out);
}

BOOST_AUTO_TEST_CASE(secret_with_quote_not_revealed_in_json) {
    // JSON escapes '"' and '\\'; the decoded summary must still not reveal the secret.
    const std::string secret = "pa\"ss\\w0rd";
    secrets::register_secret(secret);
    std::string out = render("SMTP", node(Status::critical, "rejected " + secret), json_options());
    Json j = parse_json(out);
    BOOST_TEST(j.get("summary")->str.find(secret) == std::string::npos, out);
    BOOST_TEST(out.find("w0rd") == std::string::npos, out);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(sanitize)

BOOST_AUTO_TEST_CASE(pipe_replaced) {
    BOOST_TEST(sanitize_text("a|b") == "a/b");
}

BOOST_AUTO_TEST_CASE(whitespace_and_controls_folded) {
    BOOST_TEST(sanitize_text("a\nb\r\nc") == "a b c");
    BOOST_TEST(sanitize_text("  lead   and\t\ttrail  ") == "lead and trail");
    BOOST_TEST(sanitize_text("\x01\x02x\x7fy") == "x y");
    BOOST_TEST(sanitize_text("") == "");
    BOOST_TEST(sanitize_text(" \r\n\t ") == "");
}

BOOST_AUTO_TEST_CASE(invalid_utf8_replaced) {
    BOOST_TEST(sanitize_text("\xff\xfe") == "??");
    BOOST_TEST(sanitize_text("ab\xc3") == "ab?");
    BOOST_TEST(sanitize_text("a\x80z") == "a?z");
    BOOST_TEST(sanitize_text("für €") == "für €");
    BOOST_TEST(sanitize_text("\xf0\x9f\x93\xa7 mail") == "\xf0\x9f\x93\xa7 mail");
}

BOOST_AUTO_TEST_CASE(non_utf8_sequences_rejected) {
    // Overlong forms, UTF-16 surrogates and code points above U+10FFFF are not UTF-8.
    for (const char* bad : {"\xc0\x80", "\xc1\xbf", "\xe0\x80\x80", "\xed\xa0\x80",
                            "\xf4\x90\x80\x80", "\xf5\x80\x80\x80"}) {
        std::string out = sanitize_text(std::string("x") + bad + "y");
        BOOST_TEST(valid_utf8(out), "sanitize_text passed invalid UTF-8 through");
    }
}

BOOST_AUTO_TEST_CASE(length_capped_with_ellipsis) {
    std::string out = sanitize_text(std::string(500, 'a'));
    BOOST_TEST(out == std::string(300, 'a') + "...");
    BOOST_TEST(sanitize_text("abcdef", 3) == "abc...");
    BOOST_TEST(sanitize_text(std::string(1000, 'b'), 1000).size() <= 1003u);
}

BOOST_AUTO_TEST_CASE(text_of_exactly_max_len_not_marked) {
    // Nothing was cut, so no "..." must follow.
    BOOST_TEST(sanitize_text("abc", 3) == "abc");
    BOOST_TEST(sanitize_text(std::string(300, 'z')).size() == 300u);
}

BOOST_AUTO_TEST_CASE(cut_at_a_space_still_marked) {
    // Truncated text must carry the marker even when the cut falls on whitespace.
    std::string out = sanitize_text("aaaa bbbb", 5);
    BOOST_TEST(out.size() >= 3u);
    BOOST_TEST(out.substr(out.size() - 3) == "...", out);
}

BOOST_AUTO_TEST_CASE(multibyte_cut_keeps_utf8_valid) {
    std::string text;
    for (int i = 0; i < 200; ++i) text += "é";  // 2 bytes each
    for (std::size_t max : {5u, 10u, 11u, 299u, 300u}) {
        std::string out = sanitize_text(text, max);
        BOOST_TEST(valid_utf8(out));
        // At most one partial character over the cap, then the marker.
        BOOST_TEST(out.size() <= max + 3 + 3, "max " << max << " gave " << out.size() << " bytes");
        BOOST_TEST(out.substr(out.size() - 3) == "...");
    }
}

BOOST_AUTO_TEST_SUITE_END()
