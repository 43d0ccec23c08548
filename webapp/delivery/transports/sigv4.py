"""AWS Signature Version 4 for one JSON request to an AWS service (Amazon SES): the headers that
authenticate it. Follows AWS's documented signing steps (canonical request, string to sign, derived
key); botocore does the same but brings the whole AWS SDK data with it."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from urllib.parse import quote, urlsplit

ALGORITHM = "AWS4-HMAC-SHA256"


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def signed_headers(
    method: str,
    url: str,
    body: bytes,
    *,
    access_key: str,
    secret_key: str,
    region: str,
    service: str,
    now: datetime,
    headers: dict[str, str] | None = None,
) -> dict[str, str]:
    """The request's headers (host, x-amz-date, the given ones) with its Authorization. `now` in UTC."""
    parts = urlsplit(url)
    amz_date, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    all_headers = {"host": parts.netloc, "x-amz-date": amz_date} | {k.lower(): v for k, v in (headers or {}).items()}
    names = sorted(all_headers)
    canonical_headers = "".join(f"{name}:{' '.join(all_headers[name].split())}\n" for name in names)
    pairs = (p.partition("=") for p in parts.query.split("&") if p)
    query = "&".join(sorted(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, _, v in pairs))
    canonical_request = "\n".join(
        [
            method,
            quote(parts.path or "/", safe="/-_.~"),
            query,
            canonical_headers,
            ";".join(names),
            hashlib.sha256(body).hexdigest(),
        ]
    )
    scope = f"{day}/{region}/{service}/aws4_request"
    to_sign = "\n".join([ALGORITHM, amz_date, scope, hashlib.sha256(canonical_request.encode()).hexdigest()])
    key = _hmac(_hmac(_hmac(_hmac(f"AWS4{secret_key}".encode(), day), region), service), "aws4_request")
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    credential = f"Credential={access_key}/{scope}"
    authorization = f"{ALGORITHM} {credential}, SignedHeaders={';'.join(names)}, Signature={signature}"
    return all_headers | {"authorization": authorization}
