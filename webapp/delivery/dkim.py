"""DKIM signing with dkimpy, over the headers receivers and RFC 8058 care about."""

from __future__ import annotations

from collections.abc import Callable

import dkim

SIGNED_HEADERS = [
    b"from",
    b"to",
    b"subject",
    b"date",
    b"message-id",
    b"reply-to",
    b"list-unsubscribe",
    b"list-unsubscribe-post",
    b"list-id",
    b"mime-version",
    b"content-type",
]


def make_signer(domain: str, selector: str, private_key_pem: str) -> Callable[[bytes], bytes]:
    key = private_key_pem.encode()

    def sign(message: bytes) -> bytes:
        signature: bytes = dkim.sign(
            message, selector.encode(), domain.encode(), key, include_headers=SIGNED_HEADERS, linesep=b"\r\n"
        )
        return signature + message

    return sign
