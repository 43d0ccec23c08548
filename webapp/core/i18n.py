"""Translations of what subscribers see: the public pages and the confirmation email.

Catalogs are gettext .po files under translations/<lang>/LC_MESSAGES/messages.po, committed to the
repository and compiled in memory when first used (babel), so a fresh clone needs no build step.
Each language has its own Jinja environment with the i18n extension and that language's catalog
installed, so a page is rendered in one language from start to finish; the staff UI does not use
these environments and stays English.

Language of a page: ?lang= (or the form's lang field), then the contact's saved language, then
the browser's Accept-Language, then English.
"""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from jinja2 import Environment, FileSystemLoader, select_autoescape

from webapp.core.assets import static_url

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS_DIR = ROOT / "translations"
TEMPLATES_DIR = ROOT / "templates"

DEFAULT_LANGUAGE = "en"
LANGUAGES = {"en": "English", "es": "Español"}  # code -> the language's own name, for the switcher


def N_(message: str) -> str:
    """Marks a string for extraction whose translation is looked up later (topic names, labels)."""
    return message


@lru_cache
def translations(language: str) -> NullTranslations:
    """The catalog of a language; English is the source language and needs none."""
    path = TRANSLATIONS_DIR / language / "LC_MESSAGES" / "messages.po"
    if language == DEFAULT_LANGUAGE or not path.exists():
        return NullTranslations()
    with path.open("rb") as po:
        catalog = read_po(po, locale=language)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled)


@lru_cache
def environment(language: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html"], default_for_string=False),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    catalog = translations(language)
    env.install_gettext_translations(catalog, newstyle=True)  # type: ignore[attr-defined]
    # `value | t`: the translation of a message id held in a variable (topic names, error messages),
    # as plain text: escaped like any value and never %-formatted (unlike _(), which is for literals).
    env.filters["t"] = lambda message: catalog.gettext(message) if isinstance(message, str) and message else message
    env.globals["LANGUAGES"] = LANGUAGES
    env.globals["lang"] = language
    env.globals["static_url"] = static_url
    return env


def translate(language: str, message: str, **variables: Any) -> str:
    """One message in a language, outside templates (email subjects); extracted as translate:2."""
    text = translations(normalise(language) or DEFAULT_LANGUAGE).gettext(message)
    return text % variables if variables else text


def render(template: str, language: str, **context: Any) -> str:
    return environment(normalise(language) or DEFAULT_LANGUAGE).get_template(template).render(**context)


def normalise(raw: Any) -> str:
    """A supported language code from "es", "es-MX", "ES_es" ...; "" when it is not one of ours."""
    if not isinstance(raw, str):
        return ""
    code = raw.strip().replace("_", "-").split("-")[0].lower()
    return code if code in LANGUAGES else ""


def from_accept_language(header: str | None) -> str:
    """The supported language the browser likes best (RFC 9110 q-values), or ""."""
    best, best_q = "", 0.0
    for item in (header or "").split(",")[:20]:
        tag, _, params = item.strip().partition(";")
        q = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                q = float(params[2:])
            except ValueError:
                q = 0.0
        code = normalise(tag)
        # Equal weights keep the browser's order: earlier wins.
        if code and q > best_q:
            best, best_q = code, q
    return best


def choose(requested: Any = None, contact_language: Any = None, accept_language: str | None = None) -> str:
    return (
        normalise(requested) or normalise(contact_language) or from_accept_language(accept_language) or DEFAULT_LANGUAGE
    )
