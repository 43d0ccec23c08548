"""A campaign's message prepared once (links registered, tracking and footer added) and rendered a
batch of recipients at a time, in the renderer processes, into the bytes handed to SMTP."""

from __future__ import annotations

import asyncio
import functools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from html import escape, unescape
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from webapp.abtests.models import AbVariant
from webapp.campaigns.service.web_version import OWN_LINK_MARK
from webapp.core import i18n, verp
from webapp.core.i18n import N_
from webapp.core.tokens import make_token
from webapp.delivery.compose import Envelope, build_message
from webapp.delivery.dkim import make_signer
from webapp.delivery.queries import Claimed, ContactFields, register_links
from webapp.settings.service.organisation import OrgSettings
from webapp.templates.service import renderer
from webapp.templates.service.rendering import MessageTemplate, RenderedMessage, RenderError, contact_context

# Literal http(s) links only: a URL built with template syntax differs per recipient and cannot
# be stored, so it is left untracked rather than tracked wrongly.
PLAIN_URL = r"""https?://[^"'{}<>\s]+"""
HREF = re.compile(rf"""(href\s*=\s*)(["'])({PLAIN_URL})\2""", re.IGNORECASE)
URL_IGNORES = {ord(c): None for c in "\t\n\r"}  # as browsers' URL parser does
TRACKED_LINKS = "tracked_links"  # link id -> this recipient's tracking URL
LIST_ID_LABEL = "newsletter"
STAFF_COPY_TOKEN = "recipients-own-link"  # in place of a subscriber's token, in copies staff read
WORDS = "mailroom_words"  # the variable holding the words Mailroom adds to a message, in its recipient's language
WEB_VERSION_LINK_HTML = (
    f'<div {OWN_LINK_MARK} style="font-size:12px;color:#6b7280;text-align:center;margin-bottom:16px">'
    '<a href="{{ web_version_url }}">{{ mailroom_words.web_version }}</a></div>'
)
WEB_VERSION_LINK_TEXT = "{{ mailroom_words.web_version }}: {{ web_version_url }}\n\n"


@functools.lru_cache(maxsize=64)  # asked for every message: a contact's language as stored, few distinct
def message_words(language: str) -> Mapping[str, str]:
    """The footer's and the web version link's words in `language` (a contact's; English when it is
    none Mailroom speaks), as the recipient reads the pages those links open."""
    code = i18n.normalise(language) or i18n.DEFAULT_LANGUAGE
    return {
        "unsubscribe": i18n.translate(code, N_("Unsubscribe")),
        "preferences": i18n.translate(code, N_("Manage preferences")),
        "web_version": i18n.translate(code, N_("View it in your browser")),
    }


def link_target(href: str) -> str | None:
    """The URL an href's value stands for, as a browser reads it: character references decoded
    (`?a=1&amp;b=2` is `?a=1&b=2`), tabs and line breaks dropped. None when what that gives is no
    plain URL (a decoded quote, space or angle bracket): such a link is left untracked."""
    url = unescape(href).translate(URL_IGNORES)
    return url if re.fullmatch(PLAIN_URL, url, re.IGNORECASE) else None


def tracked_urls(html: str) -> list[str]:
    return list(dict.fromkeys(url for m in HREF.finditer(html) if (url := link_target(m.group(3)))))


def add_click_tracking(html: str, link_ids: dict[str, int]) -> str:
    def replace(match: re.Match[str]) -> str:
        link_id = link_ids.get(link_target(match.group(3)) or "")
        if link_id is None:
            untracked: str = match.group(0)
            return untracked
        return f'{match.group(1)}"{{{{ {TRACKED_LINKS}[{link_id}] }}}}"'

    return HREF.sub(replace, html)


def _insert_before_body_end(html: str, snippet: str) -> str:
    index = html.lower().rfind("</body>")
    return html + snippet if index < 0 else html[:index] + snippet + html[index:]


BODY_START = re.compile(r"<body\b[^>]*>", re.IGNORECASE)
# Shown by mail clients as the preview line, hidden in the message itself.
PREHEADER = '<div style="display:none;max-height:0;overflow:hidden;mso-hide:all">{}</div>'
TEMPLATE_TAG = re.compile(r"({{.*?}}|{%.*?%}|{#.*?#})", re.DOTALL)


def _preheader(text: str) -> str:
    """The preheader as template source, personalised like the subject: its text HTML-escaped, its
    tags ({{ first_name }}) kept, their values escaped when rendered."""
    parts = TEMPLATE_TAG.split(text)
    return PREHEADER.format("".join(part if i % 2 else escape(part) for i, part in enumerate(parts)))


def _insert_after_body_start(html: str, snippet: str) -> str:
    match = BODY_START.search(html)
    return snippet + html if match is None else html[: match.end()] + snippet + html[match.end() :]


def _insert_at_top(html: str, snippet: str) -> str:
    """At the top of the body, after a preheader (which must stay the first text, as inboxes show it)."""
    match = BODY_START.search(html)
    at = match.end() if match else 0
    if html.startswith(PREHEADER.partition("{}")[0], at):
        at = html.index("</div>", at) + len("</div>")
    return html[:at] + snippet + html[at:]


def sender_lines(org: OrgSettings) -> list[str]:
    """The organisation's name, then its postal address line by line, as typed."""
    lines = [org.organisation_name, *org.postal_address.splitlines()]
    return [line.strip() for line in lines if line.strip()]


def _literal(text: str) -> str:
    """Text that goes into the message's template: a brace is written as a template literal, never
    read as template syntax. Done last: escaping HTML afterwards would break the literal's quotes."""
    return text.replace("{", "{{ '{' }}")


def footer_html(org: OrgSettings, with_unsubscribe: bool) -> str:
    parts = []
    if sender := sender_lines(org):
        parts.append("<br>".join(_literal(str(escape(line))) for line in sender))
    if with_unsubscribe:
        parts.append(
            '<a href="{{ unsubscribe_url }}">{{ mailroom_words.unsubscribe }}</a> · '
            '<a href="{{ preferences_url }}">{{ mailroom_words.preferences }}</a>'
        )
    if not parts:
        return ""
    return (
        '<div style="margin-top:32px;font-size:12px;color:#6b7280;text-align:center">' + "<br>".join(parts) + "</div>"
    )


def footer_text(org: OrgSettings, with_unsubscribe: bool) -> str:
    lines = [_literal(line) for line in sender_lines(org)]
    if with_unsubscribe:
        lines.append("{{ mailroom_words.unsubscribe }}: {{ unsubscribe_url }}")
    return "\n\n-- \n" + "\n".join(lines)


@functools.lru_cache(maxsize=64)  # asked for every message of a campaign
def list_id(from_email: str) -> str:
    """RFC 2919's list identifier: one per sending domain, so receivers see one list per sender."""
    domain = from_email.rpartition("@")[2].strip().lower()
    try:
        domain = domain.encode("idna").decode("ascii")
    except UnicodeError:  # an address that passed validation always encodes; this keeps the header valid
        domain = "invalid"
    return f"{LIST_ID_LABEL}.{domain}"


class MessageSource(Protocol):
    """What a message is made from: a campaign, or a template being tested (test_send.py)."""

    @property
    def id(self) -> int: ...
    @property
    def subject(self) -> str: ...
    @property
    def html_content(self) -> str: ...
    @property
    def text_content(self) -> str: ...
    @property
    def from_name(self) -> str: ...
    @property
    def from_email(self) -> str: ...
    @property
    def reply_to(self) -> str: ...
    @property
    def settings(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class VariantSource:
    """A campaign as one of its A/B test's variants sends it: each override set replaces the
    campaign's own value; the preheader (the inbox's preview line) opens the HTML body, hidden."""

    id: int
    subject: str
    html_content: str
    text_content: str
    from_name: str
    from_email: str
    reply_to: str
    settings: dict[str, Any]


def with_variant(campaign: MessageSource, variant: AbVariant) -> VariantSource:
    """An override the variant leaves NULL keeps the campaign's value."""
    html = campaign.html_content if variant.html_content is None else variant.html_content
    if variant.preheader:
        html = _insert_after_body_start(html, _preheader(variant.preheader))
    return VariantSource(
        id=campaign.id,
        subject=campaign.subject if variant.subject is None else variant.subject,
        html_content=html,
        text_content=campaign.text_content if variant.text_content is None else variant.text_content,
        from_name=campaign.from_name if variant.from_name is None else variant.from_name,
        from_email=campaign.from_email,
        reply_to=campaign.reply_to,
        settings=campaign.settings,
    )


@dataclass
class PreparedCampaign:
    campaign_id: int  # signed into click tokens: the click route checks a link is the campaign's from memory
    from_name: str
    from_email: str
    reply_to: str
    template: MessageTemplate
    base_url: str
    unsubscribe_mailto: str
    list_name: str
    link_ids: list[int]
    signer: Callable[[bytes], bytes] | None = None  # adds a DKIM-Signature
    bounce_address: str = ""  # set: each message's return path names its delivery (signed VERP)
    list_headers: bool = True  # List-Unsubscribe and List-Id (not on transactional messages: no list sends them)
    # False for copies staff read: the unsubscribe, preferences and web version links act for the
    # subscriber (opting back in among other things), and the tracked links and the open pixel record
    # what the subscriber did, so a copy shows where they go, not their token.
    subscriber_links: bool = True

    def return_path(self, delivery_id: int) -> str:
        """The envelope sender (MAIL FROM), where bounces go."""
        return verp.return_path(self.bounce_address, delivery_id) if self.bounce_address else self.from_email

    def unsubscribe_url(self, delivery_id: int) -> str:
        return f"{self.base_url}/u/unsubscribe/{make_token('unsubscribe', delivery_id)}"

    def links_for(self, delivery_id: int, language: str = "") -> dict[str, Any]:
        """The message's links, and the words around them in the recipient's `language`."""
        # the three pages take the same token: signed once
        own = self.subscriber_links
        unsubscribe = make_token("unsubscribe", delivery_id) if own else STAFF_COPY_TOKEN
        return {
            WORDS: message_words(language),
            "unsubscribe_url": f"{self.base_url}/u/unsubscribe/{unsubscribe}",
            "preferences_url": f"{self.base_url}/u/preferences/{unsubscribe}",
            "web_version_url": f"{self.base_url}/u/view/{unsubscribe}",
            TRACKED_LINKS: {
                link_id: f"{self.base_url}/u/c/"
                + (make_token("click", delivery_id, link_id, self.campaign_id) if own else STAFF_COPY_TOKEN)
                for link_id in self.link_ids
            },
            "open_pixel_url": f"{self.base_url}/u/o/{make_token('open', delivery_id) if own else STAFF_COPY_TOKEN}.gif",
        }

    async def render_contents(self, recipients: Sequence[tuple[int, Any]]) -> list[RenderedMessage | RenderError]:
        """Subject, HTML and text for each (delivery id, contact), or why it could not be rendered."""
        contexts = [
            contact_context(contact, self.links_for(delivery_id, getattr(contact, "language", "") or ""))
            for delivery_id, contact in recipients
        ]
        return await renderer.render_batch(self.template, contexts)

    async def render_batch(
        self, claimed: Sequence[Claimed], contacts: Mapping[int, ContactFields]
    ) -> list[bytes | RenderError]:
        """Each claimed delivery's message as sent, or the RenderError it failed with."""
        recipients = [(c.id, contacts.get(c.contact_id) if c.contact_id is not None else None) for c in claimed]
        contents = await self.render_contents(recipients)
        # Building and signing a batch takes a while (an RSA signature each): in a thread, so that
        # meanwhile the event loop keeps the SMTP sessions busy with the messages already built.
        return await asyncio.to_thread(self._messages, claimed, contents)

    def _messages(
        self, claimed: Sequence[Claimed], contents: Sequence[RenderedMessage | RenderError]
    ) -> list[bytes | RenderError]:
        return [
            content if isinstance(content, RenderError) else self.message(c.id, c.message_id, c.email, content)
            for c, content in zip(claimed, contents, strict=True)
        ]

    def message(
        self, delivery_id: int, message_id: str, to_email: str, rendered: RenderedMessage, subject_prefix: str = ""
    ) -> bytes:
        """The bytes handed to SMTP for one recipient's rendered content."""
        list_unsubscribe = ""
        if self.list_headers:
            list_unsubscribe = f"<{self.unsubscribe_url(delivery_id)}>"
            if self.unsubscribe_mailto:
                list_unsubscribe += f", <mailto:{self.unsubscribe_mailto}?subject=unsubscribe>"
        envelope = Envelope(
            from_name=self.from_name,
            from_email=self.from_email,
            to_email=to_email,
            subject=subject_prefix + rendered.subject,
            message_id=message_id,
            reply_to=self.reply_to,
            list_unsubscribe=list_unsubscribe,
            list_id=list_id(self.from_email) if self.list_headers else "",
            list_name=self.list_name,
        )
        message = build_message(envelope, rendered.html, rendered.text)
        return self.signer(message) if self.signer else message


async def prepare(
    session: AsyncSession, campaign: MessageSource, org: OrgSettings, base_url: str, bounce_address: str = ""
) -> PreparedCampaign:
    settings = campaign.settings or {}
    html, text_part = campaign.html_content, campaign.text_content
    tracked: list[int] = []
    if settings.get("track_clicks", True):
        urls = tracked_urls(html)
        link_ids = await register_links(session, campaign.id, urls)
        html = add_click_tracking(html, link_ids)
        tracked = sorted({link_ids[url] for url in urls if url in link_ids})
    # The footer adds a visible unsubscribe link unless the content has one or staff turned the
    # setting off (the review step warns then); List-Unsubscribe headers are always sent.
    wants_link = settings.get("unsubscribe_link", True)
    html = _insert_before_body_end(html, footer_html(org, wants_link and "unsubscribe_url" not in html))
    if text_part.strip():
        text_part += footer_text(org, wants_link and "unsubscribe_url" not in text_part)
    if settings.get("web_version_link", False):
        if "web_version_url" not in html:
            html = _insert_at_top(html, WEB_VERSION_LINK_HTML)
        if text_part.strip() and "web_version_url" not in text_part:
            text_part = WEB_VERSION_LINK_TEXT + text_part
    if settings.get("track_opens", True):
        html = _insert_before_body_end(
            html, '<img src="{{ open_pixel_url }}" width="1" height="1" alt="" style="display:block;border:0">'
        )
    signer = make_signer(org.dkim_domain, org.dkim_selector, org.dkim_private_key) if org.dkim_enabled else None
    from_name = campaign.from_name or org.default_from_name
    return PreparedCampaign(
        campaign_id=campaign.id,
        from_name=from_name,
        from_email=campaign.from_email or org.default_from_email,
        reply_to=campaign.reply_to,
        template=MessageTemplate(campaign.subject, html, text_part),
        base_url=base_url.rstrip("/"),
        unsubscribe_mailto=org.unsubscribe_mailto,
        list_name=org.organisation_name or from_name,
        link_ids=tracked,
        signer=signer,
        bounce_address=bounce_address,
        list_headers=settings.get("list_headers", True),
    )
