"""A session with the bounce mailbox over IMAP or POP3 (the standard library's imaplib and poplib,
run in a thread): connect to the address the SSRF rule checked, with TLS verified against the host
name, sign in, count what waits, read messages in bounded batches, delete processed ones.

Reading changes nothing on the server: only `finish`, called once what was read is recorded,
deletes messages (or, over IMAP, marks them seen), so a poll that dies in between reads them again.
IMAP reads the folder's unseen messages: mail left alone (not a report) is marked seen and not read
again. POP3 has no flags: the caller remembers the ids (UIDL) of messages it left and passes them
back to be skipped.
"""

from __future__ import annotations

import contextlib
import imaplib
import poplib
import re
import socket
import ssl
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import Protocol

from webapp.bounces.service.mailbox import MailboxSettings
from webapp.core.addresses import IPAddress, host_port
from webapp.core.connect_errors import connect_failure

TIMEOUT = 15.0  # seconds for connecting and for each reply
MAX_MESSAGE_BYTES = 2 * 1024 * 1024  # a report larger than this is not read (left where it is)
IMAP_SIZE = re.compile(rb"UID (\d+) RFC822\.SIZE (\d+)|RFC822\.SIZE (\d+) UID (\d+)")


class MailboxError(Exception):
    """The mailbox could not be used; the message says why, for staff."""


@dataclass(frozen=True)
class Fetched:
    id: str  # IMAP UID or POP3 UIDL
    raw: bytes | None  # None: larger than MAX_MESSAGE_BYTES, not read


class Mailbox(Protocol):
    def waiting(self) -> int: ...
    def fetch(self, limit: int, skip: Collection[str] = ()) -> list[Fetched]: ...
    def finish(self, processed: Collection[str], left: Collection[str], delete: bool) -> None:
        """After the commit: delete the processed messages (if `delete`); the rest are not read again."""


def _tls_context() -> ssl.SSLContext:
    return ssl.create_default_context()


def _connect(address: IPAddress, port: int) -> socket.socket:
    return socket.create_connection((str(address), port), timeout=TIMEOUT)


class _Imap(imaplib.IMAP4):
    """IMAP to the checked address; TLS (tls_mode tls) verified against the host name."""

    def __init__(self, host: str, port: int, address: IPAddress, tls: bool) -> None:
        self.address, self.tls = address, tls
        super().__init__(host, port, timeout=TIMEOUT)

    def _create_socket(self, timeout: float | None) -> socket.socket:
        sock = _connect(self.address, self.port)
        return _tls_context().wrap_socket(sock, server_hostname=self.host) if self.tls else sock


class _Pop(poplib.POP3):
    def __init__(self, host: str, port: int, address: IPAddress, tls: bool) -> None:
        self.address, self.tls = address, tls
        super().__init__(host, port, timeout=TIMEOUT)

    def _create_socket(self, timeout: float) -> socket.socket:
        sock = _connect(self.address, self.port)
        return _tls_context().wrap_socket(sock, server_hostname=self.host) if self.tls else sock


class ImapMailbox:
    def __init__(self, client: imaplib.IMAP4) -> None:
        self.client = client

    def waiting(self) -> int:
        return len(self._unseen())

    def _unseen(self) -> list[bytes]:
        kind, data = self.client.uid("SEARCH", "UNSEEN")
        if kind != "OK":
            raise MailboxError(f"The server did not list the folder's messages: {_text(data)}")
        return data[0].split() if data and data[0] else []

    def fetch(self, limit: int, skip: Collection[str] = ()) -> list[Fetched]:
        uids = [uid for uid in self._unseen() if uid.decode() not in skip][:limit]
        if not uids:
            return []
        sizes = self._sizes(b",".join(uids))
        found = []
        for uid in uids:
            if sizes.get(uid, 0) > MAX_MESSAGE_BYTES:
                found.append(Fetched(uid.decode(), None))
                continue
            kind, data = self.client.uid("FETCH", uid.decode(), "(BODY.PEEK[])")  # PEEK: still unseen
            raw = next((item[1] for item in data if isinstance(item, tuple)), None) if kind == "OK" else None
            if raw is not None:
                found.append(Fetched(uid.decode(), raw))
        return found

    def _sizes(self, uids: bytes) -> dict[bytes, int]:
        kind, data = self.client.uid("FETCH", uids.decode(), "(RFC822.SIZE)")
        sizes = {}
        for line in data if kind == "OK" else []:
            if isinstance(line, bytes) and (match := IMAP_SIZE.search(line)):
                uid, size = (match.group(1), match.group(2)) if match.group(1) else (match.group(4), match.group(3))
                sizes[uid] = int(size)
        return sizes

    def finish(self, processed: Collection[str], left: Collection[str], delete: bool) -> None:
        seen = [*left] if delete else [*left, *processed]
        if seen:
            self.client.uid("STORE", ",".join(seen), "+FLAGS.SILENT", r"(\Seen)")
        if delete and processed:
            self.client.uid("STORE", ",".join(processed), "+FLAGS.SILENT", r"(\Deleted)")
            self.client.expunge()


class PopMailbox:
    def __init__(self, client: poplib.POP3) -> None:
        self.client = client
        self.numbers: dict[str, int] = {}

    def _listing(self) -> dict[str, tuple[int, int]]:
        """UIDL -> (message number, size)."""
        sizes = {}
        for line in self.client.list()[1]:
            number, size = line.split()[:2]
            sizes[int(number)] = int(size)
        uids = {}
        for line in self.client.uidl()[1]:
            number, uid = line.split()[:2]
            uids[uid.decode()] = (int(number), sizes.get(int(number), 0))
        return uids

    def waiting(self) -> int:
        return int(self.client.stat()[0])

    def fetch(self, limit: int, skip: Collection[str] = ()) -> list[Fetched]:
        found: list[Fetched] = []
        for uid, (number, size) in self._listing().items():
            if len(found) >= limit:
                break
            if uid in skip:
                continue
            self.numbers[uid] = number
            raw = None if size > MAX_MESSAGE_BYTES else b"\r\n".join(self.client.retr(number)[1])
            found.append(Fetched(uid, raw))
        return found

    def finish(self, processed: Collection[str], left: Collection[str], delete: bool) -> None:
        for uid in processed if delete else ():
            self.client.dele(self.numbers[uid])  # done when the session ends with QUIT


@contextlib.contextmanager
def open_mailbox(settings: MailboxSettings, address: IPAddress) -> Iterator[Mailbox]:
    """A signed-in session; MailboxError says what went wrong (timeouts, TLS, sign-in)."""
    where = host_port(settings.host, settings.port)
    try:
        if settings.protocol == "pop3":
            with _pop(settings, address) as pop:
                yield pop
        else:
            with _imap(settings, address) as imap:
                yield imap
    except MailboxError:
        raise
    except TimeoutError:
        raise MailboxError(f"{where} did not answer within {TIMEOUT:.0f} seconds.") from None
    except (imaplib.IMAP4.error, poplib.error_proto) as exc:
        raise MailboxError(f"{where} refused: {_text(exc.args)}") from None
    except OSError as exc:  # TLS too
        raise MailboxError(connect_failure(exc, where) or f"Cannot connect to {where}: {exc}.") from None


@contextlib.contextmanager
def _imap(settings: MailboxSettings, address: IPAddress) -> Iterator[ImapMailbox]:
    client = _Imap(settings.host, settings.port, address, tls=settings.tls_mode == "tls")
    try:
        if settings.tls_mode == "starttls":
            client.starttls(_tls_context())
        try:
            client.login(settings.username, settings.password)
        except imaplib.IMAP4.error as exc:
            raise MailboxError(f"Sign-in failed: {_text(exc.args)}") from None
        kind, data = client.select(_quoted(settings.folder))
        if kind != "OK":
            raise MailboxError(f"The folder {settings.folder} cannot be opened: {_text(data)}")
        yield ImapMailbox(client)
        client.close()
    finally:
        with contextlib.suppress(imaplib.IMAP4.error, OSError):
            client.logout()


@contextlib.contextmanager
def _pop(settings: MailboxSettings, address: IPAddress) -> Iterator[PopMailbox]:
    client = _Pop(settings.host, settings.port, address, tls=settings.tls_mode == "tls")
    try:
        if settings.tls_mode == "starttls":
            client.stls(_tls_context())
        try:
            client.user(settings.username)
            client.pass_(settings.password)
        except poplib.error_proto as exc:
            raise MailboxError(f"Sign-in failed: {_text(exc.args)}") from None
        yield PopMailbox(client)
        client.quit()  # deletions take effect here
    finally:
        with contextlib.suppress(poplib.error_proto, OSError):
            client.close()


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _text(value: object) -> str:
    """A server's reply for staff to read."""
    items = value if isinstance(value, (list, tuple)) else [value]
    parts = [item.decode("utf-8", "replace") if isinstance(item, bytes) else str(item) for item in items]
    return " ".join(" ".join(parts).split())[:300]
