"""TLS through the Python binding: the emulator over HTTPS with a self-signed certificate made here with the
openssl command (Tests/c/test_tls_proxy.c covers TLS and proxies in depth; this checks what a Python caller sees)."""

import builtins
import subprocess

import pytest

import anyllm
import anyllm_testlib as t
import harness  # Tests/emulator/harness.py
from anyllm import completion


@pytest.fixture(scope="module")
def tls(tmp_path_factory):
    d = tmp_path_factory.mktemp("tls")
    cert, key = str(d / "cert.pem"), str(d / "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", key, "-out", cert], check=True, capture_output=True)
    with harness.running(extra_args=["--tls-cert", cert, "--tls-key", key]) as url:
        assert url.startswith("https://")
        yield {"provider": "openai", "api_base": url + "/v1", "api_key": t.KEY}, cert


def test_unverified_certificate_is_a_connection_error(tls):
    kw, _ = tls
    with pytest.raises(anyllm.ConnectionError) as info:
        completion("gpt-4o-mini", "Hello there", **kw)       # default max_retries: must not be retried
    assert isinstance(info.value, builtins.ConnectionError)
    assert "certificate could not be verified" in str(info.value)
    assert "self-signed" in str(info.value)
    assert info.value.status_code is None


def test_ca_bundle_trusts_the_server(tls):
    kw, cert = tls
    r = completion("gpt-4o-mini", "Hello there", client_args={"ca_bundle": cert}, **kw)
    assert r.choices[0].message.content == "You said: Hello there"
    chunks = list(completion("gpt-4o-mini", "Hello there", stream=True, client_args={"ca_bundle": cert}, **kw))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "You said: Hello there"


def test_verify_tls_false(tls):
    kw, _ = tls
    r = completion("gpt-4o-mini", "Hello there", client_args={"verify_tls": False}, **kw)
    assert r.choices[0].message.content == "You said: Hello there"
