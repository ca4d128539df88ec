"""AWS Signature Version 4 verification for the Bedrock emulator, written from AWS's documentation with hashlib
and hmac: it recomputes the signature of each request from a fixed table of test credentials, so a client that
signs wrongly is refused exactly as bedrock-runtime refuses it (HTTP 403 + x-amzn-ErrorType + {"message": ...}).
"""

import calendar
import hashlib
import hmac
import re
import time
import urllib.parse

SERVICE = "bedrock"
# Test credentials the emulator knows: access key id -> (secret, session token or None). ASIA… keys are
# temporary credentials and need their session token, as real STS credentials do.
CREDENTIALS = {
    "AKIDANYLLMTEST0000001": ("anyllm/test/SECRETKEY+bPxRfiCYEXAMPLEKEY", None),
    "ASIAANYLLMTEST0000002": ("anyllm/temp/SECRETKEY+zPxRfiCYEXAMPLEKEY", "anyllm-session-token-EXAMPLE/Zm9vYmFy=="),
}
# Bedrock API keys (the bearer form) the emulator accepts: any token with this prefix, except the "bad" ones.
BEARER_PREFIX = "bedrock-api-key-"
SKEW_SECONDS = 300

MISSING_TOKEN = ("MissingAuthenticationTokenException", "Missing Authentication Token")
BAD_TOKEN = ("UnrecognizedClientException", "The security token included in the request is invalid.")
BAD_SIGNATURE = ("InvalidSignatureException",
                 "The request signature we calculated does not match the signature you provided. Check your AWS "
                 "Secret Access Key and signing method. Consult the service documentation for details.")
BAD_API_KEY = ("AccessDeniedException", "Authentication failed: Please make sure your API Key is valid.")

_AUTH = re.compile(r"^AWS4-HMAC-SHA256 Credential=([^/,\s]+)/(\d{8})/([^/,\s]+)/([^/,\s]+)/aws4_request,\s*"
                   r"SignedHeaders=([a-z0-9;\-]+),\s*Signature=([0-9a-f]{64})$")


class Refused(Exception):
    def __init__(self, kind, message, status=403):
        super().__init__(message)
        self.kind, self.message, self.status = kind, message, status


def canonical_uri(raw_path):
    # Non-S3 services: every segment of the path as sent is URI-encoded once more ("%3A" -> "%253A").
    return "/".join(urllib.parse.quote(seg, safe="-_.~") for seg in raw_path.split("/")) or "/"


def canonical_query(raw_query):
    if not raw_query:
        return ""
    pairs = [p.split("=", 1) + [""] if "=" not in p else p.split("=", 1) for p in raw_query.split("&") if p]
    return "&".join("%s=%s" % (k, v) for k, v in sorted((p[0], p[1]) for p in pairs))


def _hmac(key, msg):
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


def signature(secret, day, region, service, string_to_sign):
    key = _hmac(("AWS4" + secret).encode("utf-8"), day)
    for part in (region, service, "aws4_request"):
        key = _hmac(key, part)
    return hmac.new(key, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def _amz_time(stamp):
    return calendar.timegm(time.strptime(stamp, "%Y%m%dT%H%M%SZ"))


def _fmt(t):
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(t))


def verify(ex):
    """Checks the request's auth. Returns ("bearer", token) or ("sigv4", access key id); raises Refused."""
    auth = (ex.header("Authorization") or "").strip()
    if not auth:
        raise Refused(*MISSING_TOKEN)
    if auth.startswith("Bearer "):
        token = auth[7:].strip()
        if not token.startswith(BEARER_PREFIX) or token.startswith(BEARER_PREFIX + "bad"):
            raise Refused(*BAD_API_KEY)
        return "bearer", token
    m = _AUTH.match(auth)
    if not m:
        raise Refused("IncompleteSignatureException",
                      "Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters. "
                      "Authorization=%s" % auth.split(" ", 1)[0], 400)
    akid, day, region, service, signed, sig = m.groups()
    signed_names = signed.split(";")
    if "host" not in signed_names:
        raise Refused("InvalidSignatureException", "'Host' or ':authority' must be a 'SignedHeader' in the AWS "
                                                   "Authorization.")
    if "x-amz-date" not in signed_names:
        raise Refused("IncompleteSignatureException", "Date must be in ISO-8601 'basic format'. Got '%s'. See "
                                                      "http://en.wikipedia.org/wiki/ISO_8601" % "", 400)
    if signed_names != sorted(signed_names):
        raise Refused(*BAD_SIGNATURE)
    stamp = (ex.header("X-Amz-Date") or "").strip()
    try:
        when = _amz_time(stamp)
    except ValueError:
        raise Refused("IncompleteSignatureException",
                      "Date must be in ISO-8601 'basic format'. Got '%s'. See http://en.wikipedia.org/wiki/ISO_8601"
                      % stamp, 400)
    now = time.time()
    if when < now - SKEW_SECONDS:
        raise Refused("InvalidSignatureException", "Signature expired: %s is now earlier than %s (%s - 5 min.)"
                      % (stamp, _fmt(now - SKEW_SECONDS), _fmt(now)))
    if when > now + SKEW_SECONDS:
        raise Refused("InvalidSignatureException", "Signature not yet current: %s is still later than %s (%s + 5 min.)"
                      % (stamp, _fmt(now + SKEW_SECONDS), _fmt(now)))
    if day != stamp[:8]:
        raise Refused("InvalidSignatureException", "Date in Credential scope does not match YYYYMMDD from ISO-8601 "
                                                   "version of date from HTTP: '%s' != '%s', from '%s'."
                      % (day, stamp[:8], stamp))
    if service != SERVICE:
        raise Refused("InvalidSignatureException", "Credential should be scoped to correct service: '%s'. " % SERVICE)
    if akid not in CREDENTIALS:
        raise Refused(*BAD_TOKEN)
    secret, token = CREDENTIALS[akid]
    sent_token = ex.header("X-Amz-Security-Token")
    if token is not None or sent_token is not None:
        if sent_token != token:
            raise Refused(*BAD_TOKEN)
        if "x-amz-security-token" not in signed_names:
            raise Refused(*BAD_SIGNATURE)
    lines = []
    for name in signed_names:
        values = ex.headers.get_all(name) or []
        if not values:
            raise Refused(*BAD_SIGNATURE)
        lines.append("%s:%s" % (name, ",".join(" ".join(v.split()) for v in values)))
    payload_hash = hashlib.sha256(ex.body).hexdigest()
    sent_hash = ex.header("X-Amz-Content-Sha256")
    if sent_hash is not None and sent_hash not in (payload_hash, "UNSIGNED-PAYLOAD"):
        raise Refused("XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what "
                                                   "was computed.", 400)
    canonical = "\n".join([ex.method, canonical_uri(ex.path), canonical_query(ex.raw_query), "\n".join(lines) + "\n",
                           signed, sent_hash or payload_hash])
    scope = "%s/%s/%s/aws4_request" % (day, region, service)
    to_sign = "\n".join(["AWS4-HMAC-SHA256", stamp, scope, hashlib.sha256(canonical.encode("utf-8")).hexdigest()])
    if not hmac.compare_digest(signature(secret, day, region, service, to_sign), sig):
        raise Refused(*BAD_SIGNATURE)
    return "sigv4", akid
