"""SigV4 signing against AWS's published Signature Version 4 test suite vectors."""

from __future__ import annotations

from datetime import UTC, datetime

from webapp.delivery.transports.sigv4 import signed_headers

SUITE = {
    "access_key": "AKIDEXAMPLE",
    "secret_key": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
    "region": "us-east-1",
    "service": "service",
    "now": datetime(2015, 8, 30, 12, 36, 0, tzinfo=UTC),
}
CREDENTIAL = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request"


def test_get_vanilla() -> None:
    headers = signed_headers("GET", "https://example.amazonaws.com/", b"", **SUITE)
    assert headers["authorization"] == (
        f"{CREDENTIAL}, SignedHeaders=host;x-amz-date, "
        "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
    )
    assert headers["x-amz-date"] == "20150830T123600Z"


def test_post_vanilla() -> None:
    headers = signed_headers("POST", "https://example.amazonaws.com/", b"", **SUITE)
    assert headers["authorization"] == (
        f"{CREDENTIAL}, SignedHeaders=host;x-amz-date, "
        "Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"
    )
