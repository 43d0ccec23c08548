"""The Spanish catalog covers every message of the public pages and emails, with the same
placeholders, and the pages render in either language with values escaped."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from webapp.core import i18n

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def extracted() -> set[str | tuple[str, str]]:
    with (ROOT / "translations/babel.cfg").open() as config:  # what `pybabel extract` reads
        method_map, options = parse_mapping_cfg(config)
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None, "translate": (2,)}
    found = set()
    for _, _, message, _, _ in extract_from_dir(str(ROOT), method_map, options, keywords=keywords):
        found.add(message if isinstance(message, str) else tuple(message))
    return found


def spanish():
    with (ROOT / "translations/es/LC_MESSAGES/messages.po").open("rb") as po:
        return read_po(po, locale="es")


def test_every_message_is_translated_to_spanish_with_the_same_placeholders():
    catalog = spanish()
    messages = extracted()
    assert len(messages) > 50
    for message in messages:
        key = message if isinstance(message, str) else message[0]
        entry = catalog.get(key)
        assert entry is not None, f"not in the Spanish catalog (run pybabel extract/update): {message!r}"
        assert not entry.fuzzy, key
        translations = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        sources = message if isinstance(message, tuple) else (message,)
        for translated in translations:
            assert translated, f"untranslated: {key!r}"
            assert set(PLACEHOLDER.findall(translated)) == set(PLACEHOLDER.findall(sources[-1])), key


def test_language_choice_order():
    assert i18n.choose("es", "en", "en") == "es"
    assert i18n.choose(None, "es", "en-GB") == "es"
    assert i18n.choose("xx", "", "de-DE, es-MX;q=0.8, en;q=0.5") == "es"
    assert i18n.choose(None, None, "fr, de;q=0.5") == "en"
    assert i18n.choose(None, None, "es;q=0, en;q=0.1") == "en"


def test_pages_render_escaped_in_both_languages():
    class Org:
        organisation_name, postal_address = "Acme & Co", "1 <Main> St"

    for lang, word in (("en", "Unsubscribe?"), ("es", "¿Darte de baja?")):
        html = i18n.render(
            "tracking/unsubscribe.html", lang, org=Org, email="<b>x@example.com</b>", token="t", done=False
        )
        assert word in html and f'<html lang="{lang}">' in html
        assert "&lt;b&gt;x@example.com&lt;/b&gt;" in html and "<b>x@" not in html
        assert "Acme &amp; Co" in html and "1 &lt;Main&gt; St" in html
