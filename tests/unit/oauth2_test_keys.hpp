#pragma once
// Keys and a certificate for the OAuth2 credential tests (test data, never used elsewhere).
// The client pair was made once with
//   openssl req -x509 -newkey rsa:2048 -nodes -days 36500 -set_serial 4242
//       -subj "/CN=mailprobe unit test client"
// and `openssl x509 -noout -fingerprint -sha1|-sha256 -enddate` printed the k_client_* facts.

namespace mailprobe::test {

// RFC 7515 Appendix A.2: the RSA key of the RS256 example (its JWK n, e, d, p, q, dp, dq,
// qi as PKCS#8 PEM).
inline constexpr const char* k_rfc7515_a2_key = R"PEM(-----BEGIN PRIVATE KEY-----
MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQCh+BYK4uPJtGXO
jS1lYmM2K5J9vinh8CR3/BYlzJChNuOL2TSXxbbqY913EeZ8dCn5VrD7io8ImtxL
aYk8wTM/U+3QGbh3hCUv7JFP5IV3aVlL6kKA0ywPVb9ilE8TA5a8bpvfbr3SvaNn
juygxmj3AbONv/s4yDQs4v5tJ/reSlpIdJed1LnPmt7Ex1sFhSwsD174pcF1A5L5
ROjtZMEQxrZHYJqkeDrrnGya11UxMFBji4NmXG9veoKjlnAqH2QbgtPr8jkiGUkf
toaHLFcW9Qr4NY2ai50Xw0Byj3+H2JoY2PyrZ62EWQwuz3WTOTY8BwNNb2BvniHg
VFbK5emhAgMBAAECggEAEq5xpGnNCivDflJsRQBXHx1hdR1k6Ulwe2JZD50LpXyW
PEAeP88vLNO97IjlA7/GQ5sLKMgvfTeXZx9SE+7YwVol2NXOoAJe46sui395IW/G
O+pWJ1O0BkTGoVEn2bKVRUCgu+GjBVaYLU6f3l9kJfFNS3E0QbVdxzubSu3Mkqzj
kn439X0M/V51gfpRLI9JYanrC4D4qAdGcopV/0ZHHzQlBjudU2QvXt4ehNYTCBr6
XCLQUShb1juUO1ZdiYoFaFQT5Tw8bGUl/x/jTj3ccPDVZFD9pIuhLhBOneufuBiB
4cS98l2SR/RQyGWSeWjnczT0QU91p1DhOVRuOopznQKBgQDgHMQQ60imZV1URk0K
pLttoLhyt3SmqdEf/kgHePDdtzEafpAu+cS191R2JiuoF2yzWXnwFDcqGigp5BNr
0AHQfD8/Lk8l1Mk09jxxCfui5nYooNyac8YFjm3vItzVCVDnEd3BbVWG8qf6deqE
lMGAg+C2V0L4oNXnP7LZcPAZRwKBgQC5A8R+CZW2MvRTLLHzwZkUXV866cff7tx6
kqa0finGG0KgeqlaZPxgCZnFp7AeAcCMtiynVlJ7vMVgePsLq6XtON4tB5kP9jAP
rq3rbAOal78eUH5OcED6eNuCV8ixEu1eWcPNCS/l1OW1EnXUEoEHKl54Xrrz2uNw
kgMTP1FZ1wKBgAcCn1dwJKufzBWQxWQp1vsM5fggqPN1qGb5y0MAk3g7/Ls5bkUp
5u9SN0Ai3Ya6hNnvWJMb7sXQX6U/zyO2M/hTip7tUeh7CXgwo59dkpN75gJLVds2
9+DAncu3KXU4f2Fa+7bLNrur53k8KwPOq2bbuTG69QtV7Jr5MR0AHWKNAoGBAIf/
evpitUf+4JYbLpvNXWcY052Mpz22aR84mY3nh3F2LF2mjMJDpTg7FmuyPcVw6EcG
yoAe9fa65iNqCq+jdw6PVNGo2hxfjSiZ8IIzHdsPXI89//pMjZcQK9r+CCoRjaZj
OYiIDktVWZzmevJuv6WywUqd57LE3Zar3dLSIkx1AoGAIYd7DHOhrWvxkwPQsRM2
tOgrjbcrfvtQJipd+DlcxyVuuM9sQLdgjVk2oy26F0EmpScGLq2MowX7fhd/QJQ3
ydy5cY7YIBi87w93IKLEdfnbJtoOPLUW0ITrJReOgo1cq9SbsxYawBgfp/gh6A56
03k2+ZQwVK0JKSHuLFkuQ3U=
-----END PRIVATE KEY-----
)PEM";

// The self-signed test client certificate (CN=mailprobe unit test client, until 2126).
inline constexpr const char* k_client_certificate = R"PEM(-----BEGIN CERTIFICATE-----
MIIDGzCCAgOgAwIBAgICEJIwDQYJKoZIhvcNAQELBQAwJTEjMCEGA1UEAwwabWFp
bHByb2JlIHVuaXQgdGVzdCBjbGllbnQwIBcNMjYxMjAxMDQxODQ4WhgPMjEyNjEx
MDcwNDE4NDhaMCUxIzAhBgNVBAMMGm1haWxwcm9iZSB1bml0IHRlc3QgY2xpZW50
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA21mgWNdSUP6cD6yyFBl+
KZ3MzSLH/uwXWMBwTNHEyElI+2XDtdwcUUnKSI20XoqRqAOQMXxisRWzjozqhcpD
DLUZ8rlIy3GRJm+emsfQQIfRG2gJD5PiNN5cAZ8ZtSSLIXVseMEc/5ddgwtPDo4f
NeFEuDnsfIj+9vuzje9QmPHWMOZzGfjat30MkseGGV43JcuvhqnbFAmDSA1AJhNN
a5azlFwBQxZwGOPIWi+mQfa+Ps3EMds2jzZRdPOLt844i2SS0kTB1dorbwS9MLtf
/+5PbJogVqcJrmk73FbkMzqEt6OraQmMwX3QIfS/yaGLdU+96eFgQJBHeToicMkx
hQIDAQABo1MwUTAdBgNVHQ4EFgQUcBNfiTlsduH/0sPjEYFnKvEeukIwHwYDVR0j
BBgwFoAUcBNfiTlsduH/0sPjEYFnKvEeukIwDwYDVR0TAQH/BAUwAwEB/zANBgkq
hkiG9w0BAQsFAAOCAQEAvU/d4UeQFJ9yBoGfzFV99NerU34hXq4Yc2VIHEhfWJLE
o0YKYFlpCkRtCy+xfaWzhpW55f6hAANl9jlf385UJnu2PKMsbq9hehViR2Hi4iDh
MgxPcNQsb/uqj6zWPkQsDKDyVekw3K3fkEjNgBE/iNARpUm67/NKPI4qZ9FAlmac
F5p0Dm4XZ520ufUQSUqkt9Lz6CUNXPiEZ7xfj/VQFK62rQ/zfRsLC2CaTM9vTBHU
FV86OVRdBQz8zXJoQdhHKQfk7mX6I/1YOpc7wMTSFIdD3MEdLBNx1iI77OVYF/xI
pWhUJIpyQuQdY4BFBfZxQ4E4rzQR2fbng4NRyXPQQA==
-----END CERTIFICATE-----
)PEM";

// Its private key.
inline constexpr const char* k_client_key = R"PEM(-----BEGIN PRIVATE KEY-----
MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQDbWaBY11JQ/pwP
rLIUGX4pnczNIsf+7BdYwHBM0cTISUj7ZcO13BxRScpIjbReipGoA5AxfGKxFbOO
jOqFykMMtRnyuUjLcZEmb56ax9BAh9EbaAkPk+I03lwBnxm1JIshdWx4wRz/l12D
C08Ojh814US4Oex8iP72+7ON71CY8dYw5nMZ+Nq3fQySx4YZXjcly6+GqdsUCYNI
DUAmE01rlrOUXAFDFnAY48haL6ZB9r4+zcQx2zaPNlF084u3zjiLZJLSRMHV2itv
BL0wu1//7k9smiBWpwmuaTvcVuQzOoS3o6tpCYzBfdAh9L/JoYt1T73p4WBAkEd5
OiJwyTGFAgMBAAECggEAQA8rPHbZw+yvoAZD1YniZf3/NzN+q+zAHrvIsC6c5Q8+
AKlmICDhpj3CFTFJKUkXo7UysbkNS4E2eJ2fyiXZMgdbxh6la0DF7q8vZy2OnKHt
iC74YnPCXsVHonOX+uZquYFFBfkD4oMOnLw7QNlxtPcObi0AaxhJOdElTYDEDX4c
sbypp3R/EGt8lbRQvYv8Ng4ebKZjAUuHEt5Uub/WflP1jsWEll8kaLkDj4otYTyL
W+BvI9oanHL47hK3aZMdZ5mlz6pd5rLt5GZ9itXbr1t1km6xel/DD+K6Cec67/Au
20vIv1meMGk/6OFVD+45JGJ3ex7Gya+J42WV2X2L+wKBgQDt0W+zNZaj3pKWIbb1
74Q1KYZeZogBkASD49b3Hl+jmxSMXarO9uc/ICIMVh+DjAeTK27KNaMOsIeSGxxh
rv5V4B2pChdAh3BWR/5gr990/6sJfIsbspiehY8wv/KXgTlHIUKxPTsyjRru/MfO
X3A+aEsCPmM7sR8lrfLr0+nYUwKBgQDsHrwyT6O9j0Gk29RA+4QS0xpy4bKwz8qK
tjtVUHvPjtC8U7xrnqQfZ6JDy9zeUrBvnNjR+bApOgylG448DdIgR8NCcZ2vMlqa
efssa7vbTwdwXb9XcpIN4jmvj4mnGsloSfZ7J+AfBIsAalSKuk0bja614kMLY189
xsOphUCzxwKBgBCVXC6o+/otWRdy/mkj7JowbRhEGhPR0R7JUoIk8hJcjBBFr9WC
zhlOylEF6Gip6RVQIAeludsaYDnF/jKpmz6txCO3emubhi/eEVT4rqJf+bNNpf2m
dJIJSjTiDa6W6kGVhisJ1AjwYgJsShqP+SnA6AoeA5lz/nIIMTpUqqfVAoGBAJNq
+QrcSBmwmEZqbVGI9sOeA3RYT20uvoDuF4tDbZl/y/jYutniOQvWcyuq2yH/NGLq
5T/riT2kHYLz+lCqPFelFlakgtOAN6scn2HzfV0GMVnJXg4l3ORIKsXecw3enoK7
MuVfVwFmn7ZJrLDUchHS2pJ6SmuQxkTWlRCAvo2/AoGBAKjkxRqYWInRDTqOVNe3
3bmywLe46fFTaJlMGfuXjHv/OZvDcm6bqFnX8Q3ReKbMK50uTl2/Z7mGYtqjrqxK
S/EpXaGcL2ghd+//3UVITxurEEeieG0oZz3Gn99369LnCsZ2g1obY9cREc97s/To
tOJBaxyhroHEKOICLcD9ViDp
-----END PRIVATE KEY-----
)PEM";

inline constexpr const char* k_client_sha1_fingerprint =
    "46:05:49:B6:22:8D:55:63:35:DA:0B:D6:AB:28:C1:8B:D4:48:BB:B6";
inline constexpr const char* k_client_sha256_fingerprint =
    "05:21:FA:2F:CC:80:DC:6A:40:FC:CE:66:8B:41:5E:89:82:21:A4:E5:66:64:E8:9D:10:97:82:91:59:0B:F9:"
    "8D";
// notAfter=Nov  7 04:18:48 2126 GMT
inline constexpr long long k_client_not_after = 4949698728LL;

// A P-256 key: not RSA, so no RS256.
inline constexpr const char* k_ec_key = R"PEM(-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgUeZnSonWXbI6h9Ts
aSLYniM1ToO8ECV437NeYYMAI++hRANCAASL9XmD+yRBl5c30DHv10b0IjlUJzAo
Wnpv8cvpNdNKSff0ODEssdc7grhj1qWoHMdJRF7hC/Zjvh7QENkNe3OJ
-----END PRIVATE KEY-----
)PEM";

// An RSA key encrypted with a pass phrase ("x").
inline constexpr const char* k_encrypted_key = R"PEM(-----BEGIN ENCRYPTED PRIVATE KEY-----
MIIC3TBXBgkqhkiG9w0BBQ0wSjApBgkqhkiG9w0BBQwwHAQIdOriY+1DWDECAggA
MAwGCCqGSIb3DQIJBQAwHQYJYIZIAWUDBAECBBAl7h15SPwyDLHt8Hh7PFZ6BIIC
gL9ZYDHCAMjARvGEq0KFzL+lhfIS5++Gj/kNbQSYyRZ9F0jXB/nVEoISG9KfKdyV
dqs80RgJK+PfjBK8ivk3/F4isSao7p9ZcCOZcfjz5IQJXMSQvEsszA7yvxwNDf3v
/kXpOKiFDIsbM1Ti1z/OmJUMsx2XeVX/Br2qSX1P/8l+soO1pN93tyciqKbd68Ip
ZPOtdMkQJjjCQY/3/WffYiz1l2gduJNCXzwur2shI6YqXoiRy8DR46iNGUy2tUn5
9iVdDq9c6W/MfvA27txvEYCQiyl+OCuxkQnO4vde1/yQZu3LUmJIIpQzCNfHDU3G
NVCp8VNevnkTUeiHHPpp/cDokDY65c0POiwLhX8VQkwsHxe6Ub18uMbshKOqEDUJ
POgXz/4rnG/9LRWLqj95eAT4V+Y5WOpSCnsjJ7X3viPF4wJGM3FKHJIZuByqOLv1
SMFb8LEIdRwMfmzGcquNIKi0FtOJa+OoCQ5AtDuEwoUgnJyZs7R8IIB3JERzGShv
EtN+jMddQfWuQOAIReT4uWvK36Gno5lFjS+vUEW7d3g+lw0QYLShaEce/nPw+Hkh
7qGJ9otpd7TJL5KLD5+8+ODIKGKmoVsvB/Chqciy87Uw0DA9MbU7yrLIM17CSH4a
IeYjuT7Lg/8n2kUuPIxCrqR1VEOh8klNIaygtIzqaIL26XH3dRiNYKzpMdD+fRFB
vGaA3jODk5KPTkQjxrkxzFuCL4FM6u6FEYo/pAa6Mhm0WWvP8kGu4/HJBDmDC1kQ
7FZ/0AtFZaafEizY1ztq+MeXt/D6FXPzNO4IE1EjUYt/kw6FRaYKPIHw2IVm0XOY
flLy9KhqGtTD1bs0/dqUYbg=
-----END ENCRYPTED PRIVATE KEY-----
)PEM";

}  // namespace mailprobe::test
