"""A local DNS server for the content check tests (never the internet): answers TXT questions from
a dict of name -> records, NXDOMAIN for other names; or, `silent`, never answers (a resolver that
is down). UDP on 127.0.0.1, in a thread, built on dnspython's message parsing."""

from __future__ import annotations

import socket
import threading

import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset


class DnsServer:
    def __init__(self, records: dict[str, list[str]] | None = None, *, silent: bool = False) -> None:
        self.records = records if records is not None else {}
        self.silent = silent
        self.questions: list[str] = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.address = f"127.0.0.1:{self.sock.getsockname()[1]}"
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> DnsServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        # Closing the socket does not wake a thread waiting on it (Linux); an empty datagram does.
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as waker:
            waker.sendto(b"", self.sock.getsockname())
        self._thread.join(timeout=5)
        self.sock.close()

    def _serve(self) -> None:
        while True:
            try:
                wire, client = self.sock.recvfrom(4096)
            except OSError:  # closed
                return
            if not wire:  # the waker's: the server is stopping
                return
            query = dns.message.from_wire(wire)
            question = query.question[0]
            name = question.name.to_text(omit_final_dot=True).lower()
            self.questions.append(name)
            if self.silent:
                continue
            self.sock.sendto(self._answer(query, name, question.rdtype).to_wire(), client)

    def _answer(self, query: dns.message.Message, name: str, rdtype: int) -> dns.message.Message:
        response = dns.message.make_response(query)
        if name not in self.records:
            response.set_rcode(dns.rcode.NXDOMAIN)
        elif rdtype == dns.rdatatype.TXT:
            texts = [_quoted(record) for record in self.records[name]]
            response.answer.append(dns.rrset.from_text(name + ".", 300, "IN", "TXT", *texts))
        return response


def _quoted(record: str) -> str:
    """A TXT record's text in zone-file form, split in 255-byte strings as DNS requires."""
    chunks = [record[i : i + 255] for i in range(0, len(record), 255)] or [""]
    return " ".join('"' + chunk.replace("\\", "\\\\").replace('"', '\\"') + '"' for chunk in chunks)
