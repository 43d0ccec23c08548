"""Gmail's IMAP as far as placement tests use it: a stand-in for the external service (Dovecot has
no Gmail extensions). It speaks enough IMAP4rev1 for imaplib (CAPABILITY, LOGIN, LIST, SELECT,
EXAMINE, UID SEARCH, UID FETCH, CLOSE, LOGOUT), flags its folders as Gmail does (RFC 6154: \\Junk,
\\All ...), and answers Gmail's X-GM-RAW search for the inbox's category tabs."""

from __future__ import annotations

import re
import socketserver
import threading
from dataclasses import dataclass, field

from tests.support.smtp import free_port

FOLDERS = {"INBOX": "", "[Gmail]": "\\Noselect", "[Gmail]/All Mail": "\\All", "[Gmail]/Spam": "\\Junk"}
COMMAND = re.compile(rb"^(\S+) (?:UID )?(\S+) ?(.*)$", re.IGNORECASE)
MESSAGE_ID = re.compile(rb'HEADER Message-ID "([^"]+)"', re.IGNORECASE)
CATEGORY = re.compile(rb'UID (\d+) X-GM-RAW "category:(\w+)"', re.IGNORECASE)


@dataclass
class Stored:
    uid: int
    raw: bytes
    category: str = ""  # a tab of the inbox: promotions, social, updates, forums


@dataclass
class Mailboxes:
    folders: dict[str, list[Stored]] = field(default_factory=lambda: {name: [] for name in FOLDERS})
    next_uid: int = 1

    def deliver(self, folder: str, raw: bytes, category: str = "") -> None:
        """Gmail files a message in a folder, and shows it in All Mail too."""
        for name in {folder, "[Gmail]/All Mail"}:
            self.folders[name].append(Stored(self.next_uid, raw, category))
        self.next_uid += 1


class _Session(socketserver.StreamRequestHandler):
    server: _Server

    def _send(self, *lines: bytes) -> None:
        self.wfile.write(b"".join(line + b"\r\n" for line in lines))

    def handle(self) -> None:
        self._send(b"* OK Gimap ready")
        selected: list[Stored] = []
        while line := self.rfile.readline().rstrip(b"\r\n"):
            match = COMMAND.match(line)
            if not match:
                self._send(b"* BAD what")
                continue
            tag, command, rest = match.group(1), match.group(2).upper(), match.group(3)
            if command == b"CAPABILITY":
                self._send(b"* CAPABILITY IMAP4rev1 X-GM-EXT-1 AUTH=PLAIN", tag + b" OK done")
            elif command == b"LOGIN":
                self._send(tag + b" OK signed in")
            elif command == b"LIST":
                listed = [f'* LIST (\\HasNoChildren {flags}) "/" "{name}"'.encode() for name, flags in FOLDERS.items()]
                self._send(*listed, tag + b" OK done")
            elif command in (b"SELECT", b"EXAMINE"):
                selected = self.server.mailboxes.folders.get(rest.strip(b'"').decode(), [])
                mode = b"READ-ONLY" if command == b"EXAMINE" else b"READ-WRITE"
                self._send(f"* {len(selected)} EXISTS".encode(), tag + b" OK [" + mode + b"] done")
            elif command == b"SEARCH":
                self._send(b"* SEARCH " + b" ".join(self._search(selected, rest)), tag + b" OK done")
            elif command == b"FETCH":
                self._fetch(selected, int(rest.split()[0]), tag)
            elif command == b"LOGOUT":
                self._send(b"* BYE", tag + b" OK bye")
                return
            else:  # CLOSE, NOOP
                self._send(tag + b" OK done")

    def _search(self, selected: list[Stored], criteria: bytes) -> list[bytes]:
        if wanted := MESSAGE_ID.search(criteria):
            return [str(m.uid).encode() for m in selected if wanted.group(1) in m.raw.split(b"\r\n\r\n", 1)[0]]
        if tab := CATEGORY.search(criteria):
            uid, category = int(tab.group(1)), tab.group(2).decode().lower()
            return [str(m.uid).encode() for m in selected if m.uid == uid and m.category == category]
        return []

    def _fetch(self, selected: list[Stored], uid: int, tag: bytes) -> None:
        for number, message in enumerate(selected, 1):
            if message.uid == uid:
                header = message.raw.split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n"
                intro = f'* {number} FETCH (UID {uid} INTERNALDATE "05-Dec-2026 12:00:00 +0000" BODY[HEADER]<0> '
                self.wfile.write(intro.encode() + b"{" + str(len(header)).encode() + b"}\r\n" + header + b")\r\n")
        self._send(tag + b" OK done")


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    mailboxes: Mailboxes


class GmailImap:
    def __init__(self) -> None:
        self.imap_port = free_port()
        self.mailboxes = Mailboxes()
        self._server = _Server(("127.0.0.1", self.imap_port), _Session)
        self._server.mailboxes = self.mailboxes

    def __enter__(self) -> GmailImap:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
