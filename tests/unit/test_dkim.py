"""Our DKIM signatures, checked by dkimpy's verifier as a receiver would: relaxed/relaxed, over the
headers receivers and RFC 8058 care about (absent ones too, so nobody can add them later)."""

from __future__ import annotations

import base64

import dkim
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from dkim.canonicalization import Relaxed

from webapp.delivery.compose import Envelope, build_message
from webapp.delivery.dkim import SIGNED_HEADERS, make_signer, relaxed_body

KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PEM = KEY.private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
).decode()
PUBLIC = base64.b64encode(
    KEY.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
)


def dns(name: bytes, timeout: int = 5) -> bytes | None:
    return b"v=DKIM1; k=rsa; p=" + PUBLIC if name == b"sel._domainkey.example.com." else None


def verifies(raw: bytes) -> bool:
    return bool(dkim.verify(raw, dnsfunc=dns))


def message(html: str = "<p>Hello   Ada</p>", text: str = "Hello \t Ada  \n\n\n") -> bytes:
    envelope = Envelope(
        "Zoë's Bäckerei und Konditorei am Marktplatz",
        "news@example.com",
        "ada@example.com",
        "Grüße aus München — ein ziemlich langer Betreff, der gefaltet werden muss, ganz sicher",
        "<1.2.x@example.com>",
        list_unsubscribe="<https://m.example/u/unsubscribe/t>",
        list_id="newsletter.example.com",
        list_name="Acme",
    )
    return build_message(envelope, html, text)


def signed(raw: bytes) -> bytes:
    return make_signer("example.com", "sel", PEM)(raw)


def signature_tags(raw: bytes) -> dict[str, str]:
    header = raw.split(b"\r\n\r\n", 1)[0].decode()
    value = header.split("DKIM-Signature:", 1)[1].split("\r\nFrom:", 1)[0]
    tags = (tag.partition("=") for tag in "".join(value.split()).split(";") if tag)
    return {name: content for name, _, content in tags}


def test_a_signed_message_verifies_relaxed_relaxed_over_the_listed_headers():
    raw = signed(message())
    assert verifies(raw)
    tags = signature_tags(raw)
    assert tags["c"] == "relaxed/relaxed" and tags["a"] == "rsa-sha256"
    assert tags["d"] == "example.com" and tags["s"] == "sel"
    assert tags["h"].split(":") == [h.decode() for h in SIGNED_HEADERS]


def test_whitespace_a_relay_may_change_keeps_the_signature_valid():
    raw = signed(message())
    head, body = raw.split(b"\r\n\r\n", 1)
    refolded = head.replace(b"Subject: ", b"Subject:    ").replace(b"MIME-Version: 1.0", b"MIME-Version:  1.0 ")
    assert verifies(refolded + b"\r\n\r\n" + body.replace(b"Hello   Ada", b"Hello Ada") + b"\r\n\r\n")


def test_changed_content_or_an_added_signed_header_breaks_the_signature():
    raw = signed(message())
    assert not verifies(raw.replace(b"Ada</p>", b"Eve</p>"))
    head, body = raw.split(b"\r\n\r\n", 1)
    assert not verifies(head + b"\r\nReply-To: eve@example.net\r\n\r\n" + body)  # absent, yet signed
    assert not verifies(raw.replace(b"To: ada@example.com", b"To: eve@example.com"))


def test_an_empty_body_and_a_body_of_blank_lines_verify():
    for body in (b"", b"\r\n\r\n\r\n", b"no newline at the end"):
        head = message().split(b"\r\n\r\n", 1)[0]
        assert verifies(signed(head + b"\r\n\r\n" + body)), body


BODIES = [
    b"",
    b"\r\n\r\n",
    b"plain words, one space each\r\n",
    b"two  spaces and\ta tab\r\n",
    b"a space at a line end \r\nand at the last one \r\n",
    b"tabs at a line end\t\t\r\n \t \r\nwhitespace-only line above\r\n\r\n\r\n",
    b"=20\r\nquoted-printable keeps its encoded spaces=\r\n",
]


def test_the_relaxed_body_is_what_a_verifier_computes_whichever_whitespace_it_holds():
    for body in BODIES:
        assert relaxed_body(body) == Relaxed.canonicalize_body(body), body
