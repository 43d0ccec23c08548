"""Reading a seed mailbox over IMAP: the bounce mailbox's session (bounces/service/connection.py:
the connection goes to the address the SSRF rule checked, TLS verified against the host name, a
timeout on every reply), then a search of the folders for the copies' tokens.

A copy is looked for by its Message-ID (delivery/placement_mail.py), read-only (EXAMINE): the seed's
mail is left as it was. A search stops at its deadline; the next poll carries on."""

from __future__ import annotations

import email
import imaplib
import re
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from typing import TypeVar

from webapp.bounces.service.connection import ImapMailbox, MailboxError, open_mailbox
from webapp.bounces.service.mailbox import MailboxSettings
from webapp.core import secret_box
from webapp.core.addresses import IPAddress, RefusedAddress, checked_address
from webapp.placement.models import SeedMailbox
from webapp.placement.service.folders import CATEGORIES, INBOX, Folder, placement, search_order
from webapp.placement.service.verdicts import verdicts

REFUSED = "a seed mailbox may only be on a private network when “Allow a private address” is ticked."
LIST_LINE = re.compile(rb'^\((?P<flags>[^)]*)\) (?P<delimiter>"(?:[^"\\]|\\.)*"|NIL) (?P<name>.+)$')
MAX_FOLDERS = 100  # folders searched per poll of one seed
HEADER_BYTES = 64 * 1024  # of a copy's header block read for its verdicts

T = TypeVar("T")


class ConnectionFailed(Exception):
    """Why the seed mailbox could not be reached, signed in to or read."""


@dataclass(frozen=True)
class Found:
    folder: str
    placement: str  # inbox | spam | category | other
    category: str
    authentication: dict[str, str]
    arrived_at: datetime | None  # the server's INTERNALDATE


@dataclass(frozen=True)
class SeedSession:
    settings: MailboxSettings
    address: IPAddress
    spam_folder: str

    def run(self, work: Callable[[imaplib.IMAP4, str], T]) -> T:
        """Sign in and do the work (synchronous: run it in a thread); ConnectionFailed says why not."""
        try:
            with open_mailbox(self.settings, self.address) as opened:
                assert isinstance(opened, ImapMailbox)
                return work(opened.client, self.spam_folder)
        except MailboxError as exc:
            raise ConnectionFailed(str(exc)) from None


async def open_seed(seed: SeedMailbox) -> SeedSession:
    """The seed's session, once its host is known to lead where it may (RefusedAddress otherwise)."""
    settings = MailboxSettings(
        protocol="imap",
        host=seed.host,
        port=seed.port,
        tls_mode=seed.tls_mode,
        username=seed.username,
        password=secret_box.decrypt(seed.password_encrypted) if seed.password_encrypted else "",
        folder="INBOX",
    )
    try:
        address = await checked_address(seed.host, seed.port, allow_private=seed.allow_private, refused=REFUSED)
    except RefusedAddress as exc:
        raise ConnectionFailed(str(exc)) from None
    return SeedSession(settings, address, seed.spam_folder)


def _unquoted(raw: bytes) -> str:
    text = raw.decode("utf-8", "replace")
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return text[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return text


def listed(client: imaplib.IMAP4) -> list[Folder]:
    kind, data = client.list()
    if kind != "OK":
        raise MailboxError("The server did not list the mailbox's folders.")
    found = []
    for line in data:
        if isinstance(line, bytes) and (match := LIST_LINE.match(line)):
            delimiter = b"" if match["delimiter"] == b"NIL" else match["delimiter"]
            flags = frozenset(flag.lower() for flag in match["flags"].decode("ascii", "replace").split())
            found.append(Folder(_unquoted(match["name"]), flags, _unquoted(delimiter)))
    return found


def folders(client: imaplib.IMAP4, spam_folder: str) -> list[str]:
    """The folders a search looks in, in its order (what "Test connection" shows)."""
    return [folder.name for folder in search_order(listed(client), spam_folder)]


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def find(tokens: Collection[str], deadline: float) -> Callable[[imaplib.IMAP4, str], dict[str, Found]]:
    """The work of one poll of one seed: where each copy is, for the copies found (time.monotonic()
    past the deadline: no new folder is opened)."""

    def work(client: imaplib.IMAP4, spam_folder: str) -> dict[str, Found]:
        found: dict[str, Found] = {}
        for folder in search_order(listed(client), spam_folder)[:MAX_FOLDERS]:
            if len(found) == len(tokens) or time.monotonic() > deadline:
                break
            if client.select(_quoted(folder.name), readonly=True)[0] != "OK":
                continue
            for token in tokens:
                if token in found:
                    continue
                kind, data = client.uid("SEARCH", "HEADER", "Message-ID", _quoted(f"placement.{token}@"))
                uids = data[0].split() if kind == "OK" and data and data[0] else []
                if uids:
                    found[token] = _found(client, folder, spam_folder, uids[0].decode())
        return found

    return work


def _found(client: imaplib.IMAP4, folder: Folder, spam_folder: str, uid: str) -> Found:
    kind, data = client.uid("FETCH", uid, f"(INTERNALDATE BODY.PEEK[HEADER]<0.{HEADER_BYTES}>)")
    header, arrived_at = b"", None
    for item in data if kind == "OK" else []:
        if isinstance(item, tuple):
            header = item[1]
            if moment := imaplib.Internaldate2tuple(item[0]):
                arrived_at = datetime.fromtimestamp(time.mktime(moment), UTC)
    parsed = email.message_from_bytes(header, policy=policy.compat32)
    where, category = placement(folder, spam_folder)
    if where == INBOX and "X-GM-EXT-1" in client.capabilities:
        category = _gmail_category(client, uid)
    authentication = verdicts(
        [str(value) for value in parsed.get_all("Authentication-Results", [])],
        [str(value) for value in parsed.get_all("Received-SPF", [])],
        [str(value) for value in parsed.get_all("ARC-Authentication-Results", [])],
    )
    return Found(folder.name, "category" if category else where, category, authentication, arrived_at)


def _gmail_category(client: imaplib.IMAP4, uid: str) -> str:
    """Gmail files its tabs as categories of the inbox, which IMAP shows only to its own search."""
    for name, label in CATEGORIES.items():
        kind, data = client.uid("SEARCH", "UID", uid, "X-GM-RAW", _quoted(f"category:{name}"))
        if kind == "OK" and data and data[0]:
            return label
    return ""
