import Testing
import Glibc
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

    @Test func environmentProxiesReadInOnePass() {
        let entries = ["PATH=/usr/bin", "https_proxy=http://a:pw-https-lower@p:1", "HTTPS_PROXY=http://b@p:2",
                       "http_proxy=h1", "HTTP_PROXY=h2", "all_proxy=a1", "ALL_PROXY=a2",
                       "https_proxyX=no", "Https_Proxy=no", "http_prox=no", "HOME=/root", "all_proxy", "a=no", "h=", ""]
        var cs: [UnsafeMutablePointer<CChar>?] = entries.map { strdup($0) }
        cs.append(nil)
        defer { for p in cs { free(p) } }
        let got = cs.withUnsafeMutableBufferPointer { ProxyCredentials.environmentURLs($0.baseAddress) }
        #expect(Set(got) == ["http://a:pw-https-lower@p:1", "http://b@p:2", "h1", "h2", "a1", "a2"])
        #expect(got.count == 6)
        #expect(ProxyCredentials.environmentURLs(nil).isEmpty)
        // The real environment: whatever it holds, the same as getenv says.
        let expected = ProxyCredentials.environment.compactMap { getenv($0).map { String(cString: $0) } }
        #expect(Set(ProxyCredentials.environmentURLs()) == Set(expected))
    }
}
