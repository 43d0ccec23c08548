"""Test services: embedded PostgreSQL and Redis started once per run, a real web server in a
subprocess, and helpers to act as a signed-in staff member or an API client.

The environment is set in pytest_configure, before any webapp module reads its settings.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.dns_server import DnsServer
from tests.support.logs import log_file

ROOT = Path(__file__).resolve().parent.parent
_services = None
# Every DNS lookup of the app under test (the content check's SPF, DKIM, DMARC records) goes to
# this local server, never the internet; tests publish records in it with the `dns` fixture.
_dns = DnsServer()
TEST_PASSWORD = "correct horse battery"


def pytest_configure(config: pytest.Config) -> None:
    """Each test process gets its own PostgreSQL and Redis: with pytest-xdist (`make test` runs
    `-n auto`) every worker starts embedded ones of its own, or, when DATABASE_URL and REDIS_URL
    name real servers, uses a database and a Redis db number of its own on them. The xdist
    controller runs no tests and starts nothing."""
    global _services
    if _is_xdist_controller(config):
        return
    data_dir = Path(tempfile.mkdtemp(prefix="mr-test-"))
    os.environ["MAILROOM_DATA_DIR"] = str(data_dir)
    os.environ["MAILROOM_SECRET_KEY"] = "test-secret-key-not-for-production"
    # Still argon2id, at a cost a thousand sign-ins can afford (test_passwords.py checks the default).
    os.environ.update(
        MAILROOM_PASSWORD_TIME_COST="1", MAILROOM_PASSWORD_MEMORY_KIB="1024", MAILROOM_PASSWORD_PARALLELISM="1"
    )
    os.environ.setdefault("LOG_LEVEL", "warning")
    os.environ["MAILROOM_DNS_SERVER"] = _dns.__enter__().address
    _trust_only_a_certificate_of_our_own(data_dir)
    if not (os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL")):
        from webapp.core import embedded

        _services = embedded.start(
            data_dir, need_postgres=not os.environ.get("DATABASE_URL"), need_redis=not os.environ.get("REDIS_URL")
        )
        os.environ.setdefault("DATABASE_URL", _services.database_url)
        os.environ.setdefault("REDIS_URL", _services.redis_url)
        if _services.database_url:
            _no_waiting_for_the_disk(_services.database_url)
    if (worker := _xdist_worker_number(config)) is not None:
        _use_own_servers(worker)
    from webapp.cli import migrate
    from webapp.core.config import get_settings

    get_settings.cache_clear()
    migrate()


def _trust_only_a_certificate_of_our_own(data_dir: Path) -> None:
    """Every server the tests talk to is their own, so their HTTP clients (and the app's, in the
    processes the tests start) trust one certificate made here instead of a bundle of public CAs:
    httpx reads the bundle for each client it makes (`httpx.get` makes one a call), 40 ms of CPU,
    against 1 ms for one certificate, and the tests make thousands. A test of TLS names its own
    server's certificate the same way (monkeypatch.setenv("SSL_CERT_FILE", ...))."""
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import Encoding

    from tests.support.certificates import self_signed

    path = data_dir / "trusted.pem"
    path.write_bytes(
        self_signed(ec.generate_private_key(ec.SECP256R1()), "Mailroom tests", 30).public_bytes(Encoding.PEM)
    )
    os.environ["SSL_CERT_FILE"] = str(path)


def _no_waiting_for_the_disk(database_url: str) -> None:
    """This test process's own PostgreSQL never flushes to disk: a test's data need not survive the
    machine crashing, and a commit costs no fsync. A commit still writes its WAL before it returns
    (synchronous_commit stays on), so a replica that has replayed up to the current WAL position has
    every committed change."""
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        for setting in ("fsync", "full_page_writes"):
            conn.execute(text(f"ALTER SYSTEM SET {setting} = off"))
        conn.execute(text("SELECT pg_reload_conf()"))
    engine.dispose()


def _is_xdist_controller(config: pytest.Config) -> bool:
    return getattr(config.option, "numprocesses", None) not in (None, 0) and not hasattr(config, "workerinput")


def _xdist_worker_number(config: pytest.Config) -> int | None:
    worker_id = getattr(config, "workerinput", {}).get("workerid")  # "gw0", "gw1", ...
    return int(worker_id[2:]) if worker_id else None


def _use_own_servers(worker: int) -> None:
    """On shared servers, a database `<name>_gw<N>` and Redis db N+1 for this worker (embedded
    servers are this worker's own already)."""
    if _services is not None and _services.database_url:
        return
    from sqlalchemy import create_engine, make_url, text

    url = make_url(os.environ["DATABASE_URL"])
    name = f"{url.database}_gw{worker}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}):
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    os.environ["DATABASE_URL"] = url.set(database=name).render_as_string(hide_password=False)
    redis_url = os.environ["REDIS_URL"].rsplit("/", 1)
    if redis_url[-1].isdigit():
        os.environ["REDIS_URL"] = f"{redis_url[0]}/{worker + 1}"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests last: Playwright's sync API keeps an event loop running in the main thread
    from its first use to the end of the session, and async tests cannot run after that.

    `make test` hands whole files to the xdist workers in this order: files marked `long` first,
    then the files with the most tests, so that no long file starts when the others are done and the
    suite waits for it alone."""
    per_file = Counter(item.nodeid.partition("::")[0] for item in items)

    def order(item: pytest.Item) -> tuple[bool, bool, int]:
        return (
            "tests/browser/" in item.nodeid,
            item.get_closest_marker("long") is None,
            -per_file[item.nodeid.partition("::")[0]],
        )

    items.sort(key=order)


def pytest_unconfigure(config: pytest.Config) -> None:
    if _is_xdist_controller(config):
        return
    _dns.__exit__()
    if _services is not None:
        _services.stop()
    from webapp.core import embedded

    embedded.wipe(Path(os.environ["MAILROOM_DATA_DIR"]))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def dns() -> Iterator[DnsServer]:
    """The local DNS server every lookup goes to, answering and with no records after the test."""
    yield _dns
    _dns.records.clear()
    _dns.silent = False


@pytest.fixture(scope="session")
def live_server() -> Iterator[str]:
    """The real app served by uvicorn in a subprocess, as in production."""
    with running_server("server") as url:
        yield url


@contextlib.contextmanager
def running_server(log_name: str, **env: str) -> Iterator[str]:
    """`mailroom run` in a subprocess on a free port, with `env` added to this process's environment."""
    port = _free_port()
    env = {**os.environ, "MAILROOM_PORT": str(port), "MAILROOM_BASE_URL": f"http://127.0.0.1:{port}", **env}
    log_path = log_file(log_name)
    with open(log_path, "w") as log:  # the server keeps its own copy of the file
        proc = subprocess.Popen(
            [sys.executable, "-m", "webapp.cli", "run"], env=env, stdout=log, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90  # a busy machine imports the app slowly
    while True:
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"web server did not start; see {log_path}")
        time.sleep(0.1)
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


# ---- database -----------------------------------------------------------------------------

# Ids the web process caches (tracking/service/links.py) are never used again in production; nor
# may they be from one test to the next, or a test's link would redirect to an earlier test's URL
# (and an automation version's cached flow would be an earlier test's, automations/service/plan.py).
NEVER_REUSED_IDS = ("deliveries_id_seq", "links_id_seq", "automation_versions_id_seq")
# Up to this many rows a table is emptied by DELETE, in milliseconds; TRUNCATE makes new files for
# the table and each of its indexes, a quarter of a second per test on this disk, but leaves no
# dead rows behind a big table.
FEW_ROWS = 1000
_superuser: bool | None = None


async def _truncate(conn) -> None:
    """Every table but Alembic's empty, and every sequence but NEVER_REUSED_IDS back at 1."""
    from sqlalchemy import text

    global _superuser
    if _superuser is None:
        _superuser = bool(await conn.scalar(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")))
    tables = (
        await conn.scalars(
            text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'")
        )
    ).all()
    counts = " UNION ALL ".join(
        f"SELECT '{table}', (SELECT count(*) FROM (SELECT FROM {table} LIMIT {FEW_ROWS + 1}) AS t)" for table in tables
    )
    rows = {table: n for table, n in (await conn.execute(text(counts))).all() if n}
    # Without a superuser, whose deletes may skip the foreign key checks, only TRUNCATE ... CASCADE
    # empties tables that refer to each other in a circle (automations and their versions).
    truncated = [table for table, n in rows.items() if n > FEW_ROWS or not _superuser]
    if truncated:
        await conn.execute(text(f"TRUNCATE {', '.join(truncated)} CASCADE"))
    if deleted := [table for table in rows if table not in truncated]:
        await conn.execute(text("SET LOCAL session_replication_role = replica"))
        await conn.execute(text("; ".join(f"DELETE FROM {table}" for table in deleted)))
    never_reused = ", ".join(f"'{name}'" for name in NEVER_REUSED_IDS)
    await conn.execute(
        text(
            "SELECT setval(format('%I', sequencename)::regclass, 1, false) FROM pg_sequences"
            f" WHERE schemaname = 'public' AND last_value IS NOT NULL AND sequencename NOT IN ({never_reused})"
        )
    )


async def _reset_state() -> None:
    from webapp.core.db import get_engine
    from webapp.core.redis import get_redis
    from webapp.routing.service import health

    await health.write_all()  # an earlier test's counts, before they land in this test's Redis
    async with get_engine().begin() as conn:
        await _truncate(conn)
    await get_redis().flushdb()


@pytest.fixture
async def db() -> AsyncIterator:
    """A clean database and Redis, and a session for arranging and checking state."""
    from webapp.core.db import get_sessionmaker

    await _reset_state()
    async with get_sessionmaker()() as session:
        yield session


def run_db(fn: Callable):
    """Run `await fn(session)` from sync code (browser tests), committed, and return its result.

    Playwright's sync API owns the main thread's event loop, so this runs in its own thread and
    loop with its own engine.
    """
    import concurrent.futures

    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
    from sqlalchemy.pool import NullPool

    async def go():
        engine = create_async_engine(os.environ["DATABASE_URL"], poolclass=NullPool)
        try:
            async with async_sessionmaker(engine, expire_on_commit=False)() as session:
                result = await fn(session)
                await session.commit()
                return result
        finally:
            await engine.dispose()

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, go()).result()


def reset_state_sync() -> None:
    """Truncate everything and flush Redis, from sync code."""

    async def go(session):
        await _truncate(session)
        import redis.asyncio

        client = redis.asyncio.Redis.from_url(os.environ["REDIS_URL"])
        await client.flushdb()
        await client.aclose()

    run_db(go)


# ---- acting as staff and as API clients --------------------------------------------------


class StaffClient(httpx.Client):
    """Sends the CSRF token on every unsafe request, like the app's HTMX set-up does."""

    def request(self, method: str, url, **kwargs):  # type: ignore[override]
        if method.upper() not in {"GET", "HEAD", "OPTIONS"}:
            token = self.cookies.get("mailroom_csrf")
            if token:
                kwargs["headers"] = {"x-csrftoken": token, **(kwargs.get("headers") or {})}
        return super().request(method, url, **kwargs)


async def create_user(db, role: str, email: str | None = None):
    from webapp.staff.service import users

    user = await users.create_user(
        db, {"email": email or f"{role}@example.com", "role": role, "password": TEST_PASSWORD, "name": role.title()}
    )
    await db.commit()
    return user


def sign_in(base_url: str, email: str, password: str = TEST_PASSWORD) -> StaffClient:
    client = StaffClient(base_url=base_url, follow_redirects=False, timeout=30)
    client.get("/login")
    response = client.post("/login", data={"email": email, "password": password})
    assert response.status_code == 303, response.text
    return client


@pytest.fixture
async def staff(db, live_server) -> AsyncIterator[Callable[[str], StaffClient]]:
    """staff("editor") -> a client signed in as a new user with that role."""
    clients: list[StaffClient] = []

    async def make(role: str = "editor") -> StaffClient:
        user = await create_user(db, role)
        client = sign_in(live_server, user.email)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
async def api(db, live_server) -> AsyncIterator[Callable[[str], httpx.Client]]:
    """api("editor") -> an httpx client sending a fresh API key with that role."""
    from webapp.staff.service import api_keys

    clients: list[httpx.Client] = []
    roles: list[str] = []

    async def make(role: str = "editor") -> httpx.Client:
        admin = await create_user(db, "admin", email=f"key-owner-{len(clients)}@example.com")
        # "test editor", then "test editor 2" ...: keys in use have names of their own
        same_role = sum(1 for used in roles if used == role)
        roles.append(role)
        name = f"test {role}" + (f" {same_role + 1}" if same_role else "")
        _, plain = await api_keys.create_key(db, {"name": name, "role": role}, admin.id)
        await db.commit()
        client = httpx.Client(base_url=live_server, headers={"Authorization": f"Bearer {plain}"}, timeout=30)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()
