import Testing
@testable import AnyLLM

/// SHA-256 and HMAC against their standards' vectors, SigV4 against AWS's published test suite
/// (credentials AKIDEXAMPLE, 2015-08-30 12:36:00 UTC, us-east-1, service "service").
@Suite struct SigV4Tests {
    static func hex(_ s: String) -> String { SHA256.hex(SHA256.hash(Array(s.utf8))) }

    @Test func sha256NISTVectors() {
        #expect(Self.hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(Self.hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(Self.hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(SHA256.hex(SHA256.hash([UInt8](repeating: 0x61, count: 1_000_000)))
                == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
        // Lengths around the padding boundary (55, 56, 64 bytes) hash differently from each other.
        let ds = [55, 56, 63, 64, 65].map { SHA256.hex(SHA256.hash([UInt8](repeating: 0x61, count: $0))) }
        #expect(Set(ds).count == 5)
        #expect(ds[1] == "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a")
    }

    @Test func hmacRFC4231Vectors() {
        #expect(SHA256.hex(SHA256.hmac(key: [UInt8](repeating: 0x0b, count: 20), Array("Hi There".utf8)))
                == "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")
        #expect(SHA256.hex(SHA256.hmac(key: Array("Jefe".utf8), Array("what do ya want for nothing?".utf8)))
                == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        #expect(SHA256.hex(SHA256.hmac(key: [UInt8](repeating: 0xaa, count: 131),
                                       Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8)))
                == "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
    }

    static let creds = AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    static let when = 1_440_938_160  // 20150830T123600Z

    static func suite(_ method: String, query: String = "", headers: [(String, String)] = [], body: String = "") -> SigV4.Signed {
        SigV4.sign(method: method, path: "/", query: query, headers: [("Host", "example.amazonaws.com")] + headers,
                   body: Array(body.utf8), credentials: creds, region: "us-east-1", service: "service", unixTime: when)
    }

    static func authorization(_ signed: SigV4.Signed) -> String? { signed.headers.first { $0.0 == "Authorization" }?.1 }

    @Test func getVanilla() {
        let s = Self.suite("GET")
        #expect(s.canonicalRequest == "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(s.stringToSign == "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\nbb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63")
        #expect(s.signature == "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")
        #expect(Self.authorization(s) == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")
        #expect(s.headers.first { $0.0 == "X-Amz-Date" }?.1 == "20150830T123600Z")
    }

    @Test func postVanilla() {
        let s = Self.suite("POST")
        #expect(s.stringToSign.hasSuffix("\n553f88c9e4d10fc9e109e2aeb65f030801b70c2f6468faca261d401ae622fc87"))
        #expect(s.signature == "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b")
    }

    @Test func getVanillaQueryOrderKeyCase() {
        let s = Self.suite("GET", query: "Param2=value2&Param1=value1")
        #expect(s.canonicalRequest.hasPrefix("GET\n/\nParam1=value1&Param2=value2\n"))
        #expect(s.stringToSign.hasSuffix("\n816cd5b414d056048ba4f7c5386d6e0533120fb1fcfa93762cf0fc39e2cf19e0"))
        #expect(s.signature == "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500")
    }

    @Test func postXWWWFormURLEncoded() {
        let s = Self.suite("POST", headers: [("Content-Type", "application/x-www-form-urlencoded")], body: "Param1=value1")
        #expect(s.canonicalRequest == "POST\n/\n\ncontent-type:application/x-www-form-urlencoded\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\ncontent-type;host;x-amz-date\n9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e")
        #expect(s.stringToSign.hasSuffix("\n42a5e5bb34198acb3e84da4f085bb7927f2bc277ca766e6d19c73c2154021281"))
        #expect(s.signature == "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a")
    }

    @Test func sessionTokenIsSignedAndSent() {
        var c = Self.creds
        c.sessionToken = "FQoGZXIvYXdzEXAMPLETOKEN"
        let s = SigV4.sign(method: "GET", path: "/", headers: [("Host", "example.amazonaws.com")], body: [], credentials: c,
                           region: "us-east-1", service: "service", unixTime: Self.when)
        #expect(s.canonicalRequest.contains("\nx-amz-security-token:FQoGZXIvYXdzEXAMPLETOKEN\n"))
        #expect(Self.authorization(s)?.contains("SignedHeaders=host;x-amz-date;x-amz-security-token,") == true)
        #expect(s.headers.contains { $0 == ("X-Amz-Security-Token", "FQoGZXIvYXdzEXAMPLETOKEN") })
        #expect(s.signature != Self.suite("GET").signature)
        // The secret never appears in what is sent.
        #expect(!s.headers.contains { $0.1.contains(c.secretAccessKey) })
    }

    @Test func canonicalURIEncodesSegmentsAgain() {
        #expect(SigV4.canonicalURI("/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse")
                == "/model/anthropic.claude-3-5-sonnet-20240620-v1%253A0/converse")
        #expect(SigV4.canonicalURI("/") == "/")
        #expect(SigV4.canonicalValue("  a   b \t c ") == "a b c")
    }

    @Test func amzDate() {
        #expect(SigV4.amzDate(0) == "19700101T000000Z")
        #expect(SigV4.amzDate(Self.when) == "20150830T123600Z")
        #expect(SigV4.amzDate(951_782_400) == "20000229T000000Z")  // a leap day
        #expect(SigV4.amzDate(1_767_225_599) == "20251231T235959Z")
    }
}
