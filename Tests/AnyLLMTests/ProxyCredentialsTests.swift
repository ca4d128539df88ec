import Testing
@testable import AnyLLM

/// The parts of a proxy URL that the error Redactor must know (ProxyCredentials).
@Suite struct ProxyCredentialsTests {
    @Test func userinfoOfProxyURLs() {
        #expect(ProxyCredentials.userinfo("http://alice:s3cret@proxy:3128") == "alice:s3cret")
        #expect(ProxyCredentials.userinfo("http://alice:s3cret@proxy:3128/path@x") == "alice:s3cret")
        #expect(ProxyCredentials.userinfo("alice:s3cret@proxy:3128") == "alice:s3cret")          // no scheme
        #expect(ProxyCredentials.userinfo("socks5h://u:p@ss@proxy:1080") == "u:p@ss")             // raw @ in the password
        #expect(ProxyCredentials.userinfo("http://proxy:3128") == nil)
        #expect(ProxyCredentials.userinfo("http://@proxy:3128") == nil)
        #expect(ProxyCredentials.userinfo("") == nil)
    }

    @Test func percentDecoding() {
        #expect(ProxyCredentials.percentDecoded("p%40ss%3Aword") == "p@ss:word")
        #expect(ProxyCredentials.percentDecoded("100%") == "100%")        // a lone % stays
        #expect(ProxyCredentials.percentDecoded("%zz%4") == "%zz%4")
    }

    @Test func secretsOfAnExplicitProxy() {
        let s = ProxyCredentials.secrets(explicit: "http://alice:p%40ssw0rd-long@proxy:3128")
        #expect(s.contains("alice:p%40ssw0rd-long"))
        #expect(s.contains("alice:p@ssw0rd-long"))
        #expect(s.contains("p%40ssw0rd-long"))
        #expect(s.contains("p@ssw0rd-long"))
        let r = Redactor(secrets: s)
        #expect(r.clean("refused alice:p@ssw0rd-long at proxy") == "refused [redacted] at proxy")
    }
}
