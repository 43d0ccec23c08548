"""Organisation settings against the real web server: saving, validation, and DKIM keys that are
stored encrypted, never shown back, and sign mail that verifies against the DNS record shown."""

from __future__ import annotations

import base64
import re
from email.message import EmailMessage

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from sqlalchemy import select

from webapp.delivery.dkim import make_signer
from webapp.settings.models import AppSetting
from webapp.settings.service import organisation as org_settings

FORM = {
    "organisation_name": "Acme Ltd",
    "postal_address": "1 Main Street\r\nSpringfield 12345",
    "default_from_name": "Acme News",
    "default_from_email": "news@acme.example",
    "unsubscribe_mailto": "mailto:unsubscribe@acme.example",
    "dkim_domain": "acme.example",
    "dkim_selector": "mailroom",
}


def message() -> bytes:
    msg = EmailMessage()
    msg["From"] = "Acme News <news@acme.example>"
    msg["To"] = "ann@example.com"
    msg["Subject"] = "Signed"
    msg["Message-ID"] = "<1@acme.example>"
    msg.set_content("Hello")
    return msg.as_bytes().replace(b"\n", b"\r\n")


def verifies(signed: bytes, record: str, selector: str = "mailroom") -> bool:
    def dns(name: bytes, timeout: int = 5) -> bytes | None:
        return record.encode() if name == f"{selector}._domainkey.acme.example.".encode() else None

    return dkim.verify(signed, dnsfunc=dns)


def shown_record(page: str) -> str:
    found = re.search(r'<code class="secret dkim-record" id="dkim-dns-record">([^<]+)</code>', page)
    assert found, "no DNS record on the page"
    return found.group(1)


async def stored_value(db) -> dict:
    db.expire_all()
    return await db.scalar(select(AppSetting.value).where(AppSetting.key == org_settings.KEY))


async def test_admin_saves_and_sees_the_settings(staff, db):
    client = await staff("admin")
    first = client.get("/settings/organisation").text
    assert "Campaigns cannot be sent until you fill in the organisation name and postal address." in first

    response = client.post("/settings/organisation", data=FORM)
    assert response.status_code == 303 and response.headers["location"] == "/settings/organisation"
    saved = await org_settings.load(db)
    assert (saved.organisation_name, saved.postal_address) == ("Acme Ltd", "1 Main Street\nSpringfield 12345")
    assert (saved.default_from_name, saved.default_from_email) == ("Acme News", "news@acme.example")
    assert saved.unsubscribe_mailto == "unsubscribe@acme.example"
    assert (saved.dkim_domain, saved.dkim_selector, saved.dkim_private_key) == ("acme.example", "mailroom", "")

    page = client.get("/settings/organisation").text
    assert "Organisation settings saved." in page and "Campaigns cannot be sent" not in page
    assert 'value="Acme Ltd"' in page and "1 Main Street\nSpringfield 12345</textarea>" in page
    assert "No key saved." in page

    # A cleared optional field is cleared (browsers do not send empty fields as missing).
    client.post("/settings/organisation", data={**FORM, "default_from_name": ""})
    assert (await org_settings.load(db)).default_from_name == ""


async def test_bad_input_is_reported_next_to_fields_and_kept(staff, db):
    client = await staff("admin")
    response = client.post(
        "/settings/organisation",
        data={
            **FORM,
            "postal_address": "",
            "default_from_email": "not an address",
            "dkim_domain": "acme",
            "dkim_selector": "bad selector",
            "organisation_name": "<b>Acme</b>",
            "dkim_private_key": "-----BEGIN PRIVATE KEY-----\nnonsense\n-----END PRIVATE KEY-----",
        },
    )
    assert response.status_code == 422
    page = response.text
    assert "Required before any campaign can be sent: it is in the footer of every message." in page
    assert "An email address must have an @-sign." in page
    assert "Enter the domain you send from, e.g. example.com." in page
    assert "Use letters, digits, &#39;-&#39; or &#39;_&#39;" in page
    assert "Paste a PEM private key" in page
    assert page.count('class="field invalid"') == 5
    # the alert read out is about what was just typed, not the settings saved before
    assert "Nothing was saved: check the fields marked below." in page and "cannot be sent until" not in page
    assert 'value="&lt;b&gt;Acme&lt;/b&gt;"' in page and 'value="not an address"' in page
    assert "nonsense" not in page  # a pasted key is never echoed
    assert await stored_value(db) is None


async def test_generated_key_is_stored_encrypted_never_shown_and_signs_verifiable_mail(staff, db):
    client = await staff("admin")
    client.post("/settings/organisation", data=FORM)
    # Generating saves what is typed with the key: the domain typed for it is not lost
    response = client.post("/settings/organisation/dkim-key", data=FORM | {"default_from_name": "Acme Letters"})
    assert response.status_code == 303 and response.headers["location"] == "/settings/organisation#dkim"
    assert (await org_settings.load(db)).default_from_name == "Acme Letters"

    saved = await org_settings.load(db)
    key = serialization.load_pem_private_key(saved.dkim_private_key.encode(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey) and key.key_size == 2048
    assert saved.dkim_enabled and saved.organisation_name == "Acme Ltd"  # the rest is kept

    stored = await stored_value(db)
    assert "dkim_private_key" not in stored and "PRIVATE KEY" not in str(stored)
    assert stored["dkim_private_key_encrypted"]

    page = client.get("/settings/organisation").text
    key_body = saved.dkim_private_key.splitlines()[1]
    assert key_body not in page  # never shown back
    assert "New DKIM key generated." in page and "Messages are signed for <strong>acme.example</strong>" in page
    assert '<code class="secret" id="dkim-dns-name">mailroom._domainkey.acme.example</code>' in page
    record = shown_record(page)
    public_der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert record == f"v=DKIM1; k=rsa; p={base64.b64encode(public_der).decode()}"

    signed = make_signer(saved.dkim_domain, saved.dkim_selector, saved.dkim_private_key)(message())
    assert signed.startswith(b"DKIM-Signature: v=1; a=rsa-sha256;")
    assert verifies(signed, record)
    assert not verifies(signed.replace(b"Hello", b"Hullo"), record)

    # Generating again asks first, keeping what was typed (a new selector, to publish beside the old)
    asked = client.post("/settings/organisation/dkim-key", data=FORM | {"dkim_selector": "mr2"})
    assert asked.status_code == 409 and 'id="replace-key-warning"' in asked.text
    assert 'name="replace_key" value="yes"' in asked.text and 'value="mr2"' in asked.text
    assert (await org_settings.load(db)).dkim_private_key == saved.dkim_private_key  # nothing replaced yet
    # then replaces the key with what was typed; the old record no longer verifies new mail.
    client.post("/settings/organisation/dkim-key", data=FORM | {"dkim_selector": "mr2", "replace_key": "yes"})
    db.expire_all()
    newer = await org_settings.load(db)
    assert newer.dkim_selector == "mr2"
    assert newer.dkim_private_key != saved.dkim_private_key
    resigned = make_signer(newer.dkim_domain, newer.dkim_selector, newer.dkim_private_key)(message())
    assert not verifies(resigned, record, "mr2")
    assert verifies(resigned, shown_record(client.get("/settings/organisation").text), "mr2")


async def test_pasted_key_is_normalised_kept_when_blank_and_removable(staff, db):
    client = await staff("admin")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pkcs8 = (
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        .decode()
        .replace("\n", "\r\n")
    )  # as a textarea sends it
    assert client.post("/settings/organisation", data={**FORM, "dkim_private_key": pkcs8}).status_code == 303
    saved = await org_settings.load(db)
    assert saved.dkim_private_key.startswith("-----BEGIN RSA PRIVATE KEY-----\n") and "\r" not in saved.dkim_private_key
    signed = make_signer("acme.example", "mailroom", saved.dkim_private_key)(message())
    assert verifies(signed, shown_record(client.get("/settings/organisation").text))

    client.post("/settings/organisation", data={**FORM, "organisation_name": "Acme Group"})  # key field blank
    kept = await org_settings.load(db)
    assert (kept.organisation_name, kept.dkim_private_key) == ("Acme Group", saved.dkim_private_key)

    client.post("/settings/organisation", data={**FORM, "dkim_remove_key": "true"})
    removed = await org_settings.load(db)
    assert removed.dkim_private_key == "" and not removed.dkim_enabled
    assert 'id="dkim-dns-record"' not in client.get("/settings/organisation").text


# A throwaway 512-bit key (cryptography refuses to generate one this short).
SHORT_KEY = """-----BEGIN PRIVATE KEY-----
MIIBVgIBADANBgkqhkiG9w0BAQEFAASCAUAwggE8AgEAAkEA+w2DATmUNtsptWvs
w7kjj/7s9qQA1HbfXAcOhmNpGUT5P0tOPfZkZwQdoDGE87NisVeyalktzLEc2FAG
BVtmawIDAQABAkAdzI3HQHFiTYNW4HebB8e72NOBtxfOIEoE32WO+A/KitQnUlbL
/AC3stY1gbUKLNh/wOW5hKNDI1pzAnWyZZDpAiEA//mND0XqXs/QIuyaQoIAwqkN
oVnAyLE9QeTd2i4vL88CIQD7E9YzLUSA8Z556rdkzhw9vvzYnK1uXLDqTr0l2xSK
pQIhAIva7h49Jet9gYvDWBkkbIPu17qjjjhY1k5NXIVbnH5zAiEAwdhQ2fYrG3pw
JiSHLvbKawmXYQ2mALzjgiMEecOpGlkCIQDe9tcB/YxmMzREz9E1DpwzLSppiLLi
fy4jRY0Ggb2MvQ==
-----END PRIVATE KEY-----"""
EC_KEY = (
    ec.generate_private_key(ec.SECP256R1())
    .private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    .decode()
)


@pytest.mark.parametrize(
    "pem, message",
    [
        (SHORT_KEY, "The key has 512 bits; use at least 1024 (2048 is usual)."),
        (EC_KEY, "Use an RSA key (DKIM signing here uses rsa-sha256)."),
    ],
)
async def test_unusable_keys_are_refused(staff, db, pem, message):
    client = await staff("admin")
    response = client.post("/settings/organisation", data={**FORM, "dkim_private_key": pem})
    assert response.status_code == 422 and message in response.text
    assert await stored_value(db) is None


@pytest.mark.parametrize("role", ["editor", "viewer"])
async def test_only_admins_reach_organisation_settings(staff, db, role):
    client = await staff(role)
    assert client.get("/settings/organisation").status_code == 403
    assert client.post("/settings/organisation", data=FORM).status_code == 403
    assert client.post("/settings/organisation/dkim-key").status_code == 403
    assert await stored_value(db) is None
    assert 'href="/settings/organisation"' not in client.get("/").text
