"""An address that someone else makes a contact while an import's chunk loads (their transaction
still open when the chunk's insert reaches it) must not fail the import: that contact stays as they
made it, the chunk's other rows are inserted, and the counts say so."""

from __future__ import annotations

import threading
import time

import psycopg

from webapp.core.config import get_settings
from webapp.imports.queries import load
from webapp.imports.service.loader import libpq_url

MAPPED = {"email", "first_name"}
WAIT_LIMIT = 30.0


def staged(*rows: tuple[str, str]) -> bytes:
    """COPY text: line, email, first name."""
    return "".join(f"{line}\t{email}\t{name}\n" for line, (email, name) in enumerate(rows, 2)).encode()


def wait_until_blocked(watcher: psycopg.Connection, pid: int) -> None:
    deadline = time.monotonic() + WAIT_LIMIT
    query = "SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = %s"
    while not watcher.execute(query, (pid,)).fetchone()[0]:
        assert time.monotonic() < deadline, "the chunk never waited for the other transaction"
        time.sleep(0.02)


async def test_an_address_added_while_a_chunk_loads_is_left_alone_and_the_rest_inserted(db) -> None:
    url = libpq_url(get_settings().database.url)
    with (
        psycopg.connect(url) as loader,
        psycopg.connect(url) as person,
        psycopg.connect(url, autocommit=True) as watcher,
    ):
        load.create_stage(loader)
        cur = loader.cursor()
        load.stage(
            cur,
            ["email", "first_name"],
            staged(("ada@example.com", "Ada"), ("bo@example.com", "Bo"), ("cy@example.com", "Cy")),
        )
        # Someone adds Bo by hand and has not committed yet: the chunk's insert waits for them.
        person.execute("INSERT INTO contacts (email, first_name) VALUES ('Bo@example.com', 'Bo by hand')")
        result: list[tuple[int, int]] = []
        writing = threading.Thread(
            target=lambda: result.append(load.write_contacts(cur, load.write_contacts_statement(MAPPED, update=False)))
        )
        writing.start()
        wait_until_blocked(watcher, loader.info.backend_pid)
        person.commit()
        writing.join(WAIT_LIMIT)
        loader.commit()

        assert result == [(2, 0)]
        names = dict(watcher.execute("SELECT email, first_name FROM contacts").fetchall())
        assert names == {"ada@example.com": "Ada", "Bo@example.com": "Bo by hand", "cy@example.com": "Cy"}
