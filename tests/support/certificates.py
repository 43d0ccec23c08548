"""Self-signed X.509 certificates for tests: a mail server's TLS, an SNS signing certificate, an
HTTPS server's."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from cryptography.x509.oid import NameOID


def self_signed(
    key: CertificateIssuerPrivateKeyTypes, common_name: str, valid_days: int, dns_names: Sequence[str] = ()
) -> x509.Certificate:
    """Valid from yesterday for valid_days, issued to and by common_name; for `dns_names` (the
    names TLS clients check), where given."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.now(UTC)
    builder = x509.CertificateBuilder()
    if dns_names:
        names = x509.SubjectAlternativeName([x509.DNSName(n) for n in dns_names])
        builder = builder.add_extension(names, critical=False)
    return (
        builder.subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=valid_days))
        .sign(key, hashes.SHA256())
    )
