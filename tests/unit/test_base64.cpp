#define BOOST_TEST_MODULE base64
#include "core/base64.hpp"

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>
#include <string>

#include "support.hpp"

using namespace mailprobe;
namespace bdata = boost::unit_test::data;

namespace {

struct Vector {
    std::string data;
    std::string base64;
    std::string base64url;
};

std::ostream& operator<<(std::ostream& out, const Vector& v) {
    return out << "'" << v.base64 << "'";
}

// RFC 4648 section 10, plus bytes that differ between the two alphabets and the protected
// header of RFC 7515 Appendix A.1 (with its CR LF).
const Vector k_vectors[] = {
    {"", "", ""},
    {"f", "Zg==", "Zg"},
    {"fo", "Zm8=", "Zm8"},
    {"foo", "Zm9v", "Zm9v"},
    {"foob", "Zm9vYg==", "Zm9vYg"},
    {"fooba", "Zm9vYmE=", "Zm9vYmE"},
    {"foobar", "Zm9vYmFy", "Zm9vYmFy"},
    {"\xfb\xff\xbf", "+/+/", "-_-_"},
    {"{\"typ\":\"JWT\",\r\n \"alg\":\"HS256\"}", "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9",
     "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9"},
};

}  // namespace

BOOST_DATA_TEST_CASE(encodes_rfc4648_vectors, bdata::make(k_vectors), v) {
    BOOST_TEST(base64_encode(v.data) == v.base64);
    BOOST_TEST(base64url_encode(v.data) == v.base64url);
}

BOOST_DATA_TEST_CASE(base64url_decodes_what_it_encodes, bdata::make(k_vectors), v) {
    BOOST_TEST(base64url_decode(v.base64url).value_or("<none>") == v.data);
}

BOOST_AUTO_TEST_CASE(base64url_decode_accepts_padding) {
    BOOST_TEST(base64url_decode("Zm8=").value_or("<none>") == "fo");
}

BOOST_AUTO_TEST_CASE(base64url_decode_refuses_what_is_not_base64url) {
    for (const char* text : {"Z", "Zm9vY", "+/+/", "Zm 9v", "Zm9v\n", "Zm=v"}) {
        BOOST_TEST(!base64url_decode(text).has_value(), "'" << text << "'");
    }
}
