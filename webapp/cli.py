"""`mailroom` command line: run | worker | migrate | create-user | capture-smtp | dev."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def migrate() -> None:
    from alembic import command
    from alembic.config import Config

    from webapp.core.config import get_settings

    config = Config()
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", get_settings().database.url)
    command.upgrade(config, "head")


def serve() -> None:
    import uvicorn

    from webapp.core.config import get_settings

    server = get_settings().server
    uvicorn.run(
        "webapp.app:create_app",
        factory=True,
        host=server.host,
        port=server.port,
        workers=server.web_workers,
        log_level=server.log_level,
        proxy_headers=True,
        forwarded_allow_ips=os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"),
    )


def worker_command(queues: Sequence[str] = (), skip_queues: Sequence[str] = ()) -> list[str]:
    """queues: only these (e.g. a worker of its own for `transactional`); skip_queues: every queue
    but these (the other workers, which then never take a transactional message); all by default."""
    from webapp.core.config import get_settings

    server = get_settings().server
    if skip_queues:
        queues = [queue for queue in declared_queues() if queue not in skip_queues]
    only = ["--queues", *queues] if queues else []
    return [
        sys.executable,
        "-m",
        "dramatiq",
        "webapp.worker",
        "--processes",
        str(server.worker_processes),
        "--threads",
        str(server.worker_threads),
        *only,
    ]


def declared_queues() -> list[str]:
    """The queue of every actor the worker runs (not their delay queues, which go with them)."""
    import dramatiq

    import webapp.worker  # noqa: F401  (declares every actor on the broker)

    return sorted(q for q in dramatiq.get_broker().get_declared_queues() if q == dramatiq.common.q_name(q))


def worker_environment() -> dict[str, str]:
    """Each worker process fetches no more messages than it has threads to run: one holding more
    would keep a campaign's sending chains (start_campaign starts one per thread of every process)
    from the other processes, and their cores, while they wait."""
    from webapp.core.config import get_settings

    return {**os.environ, "dramatiq_queue_prefetch": str(get_settings().server.worker_threads)}


def worker(queues: Sequence[str] = (), skip_queues: Sequence[str] = ()) -> None:
    os.execve(sys.executable, worker_command(queues, skip_queues), worker_environment())


async def _create_user(email: str, role: str, password: str, name: str) -> None:
    from webapp.core.db import get_sessionmaker
    from webapp.staff.service import users

    async with get_sessionmaker()() as session, session.begin():
        await users.create_user(session, {"email": email, "role": role, "password": password, "name": name})


def create_user(args: argparse.Namespace) -> None:
    from webapp.core.errors import DomainError
    from webapp.staff.schemas import MIN_PASSWORD_LENGTH

    password = args.password or getpass.getpass(f"Password (at least {MIN_PASSWORD_LENGTH} characters): ")
    try:
        asyncio.run(_create_user(args.email, args.role, password, args.name or ""))
    except DomainError as exc:
        sys.exit(f"error: {exc.message}")
    print(f"Created {args.role} {args.email}")


def capture_smtp(args: argparse.Namespace) -> None:
    from webapp.core.config import get_settings
    from webapp.delivery.capture_smtp import serve

    port = args.port or get_settings().delivery.dev_smtp_port
    try:
        asyncio.run(serve(args.host, port))
    except OSError as exc:
        sys.exit(
            f"error: the capture SMTP server cannot listen on {args.host}:{port}: {exc} "
            "(choose another port with MAILROOM_DEV_SMTP_PORT)"
        )


async def _ensure_first_admin() -> str | None:
    from webapp.core.config import get_settings
    from webapp.core.db import get_sessionmaker
    from webapp.staff.service import users

    async with get_sessionmaker()() as session, session.begin():
        return await users.ensure_first_admin(session, get_settings().admin_email)


def dev() -> None:
    """Everything on one machine: embedded services when no URLs are set, migrations, first admin,
    then the capture SMTP server, the web server and a worker until Ctrl-C. Mail goes to the capture
    server (shown on /outbox) until an admin configures an SMTP server in the UI."""
    from webapp.core import embedded
    from webapp.core.config import get_settings

    settings = get_settings()
    if not settings.database.url or not settings.redis.url:
        print(f"Starting embedded services under {settings.paths.data_dir} ...", flush=True)
        services = embedded.start(
            settings.paths.data_dir, need_postgres=not settings.database.url, need_redis=not settings.redis.url
        )
        if services.database_url:
            os.environ["DATABASE_URL"] = services.database_url
        if services.redis_url:
            os.environ["REDIS_URL"] = services.redis_url
        get_settings.cache_clear()
        settings = get_settings()
    os.environ.setdefault("MAILROOM_SECRET_KEY", settings.secret_key())
    migrate()
    password = asyncio.run(_ensure_first_admin())
    url = settings.server.public_url
    if password:
        print(
            f"\n  First admin account created. Sign in at {url}/login\n"
            f"    email:    {settings.admin_email}\n    password: {password}\n"
            "  (shown once; change it under Settings → Users)\n",
            flush=True,
        )
    capture_port = settings.delivery.dev_smtp_port
    os.environ["MAILROOM_DEV_SMTP"] = f"127.0.0.1:{capture_port}"  # inherited by the web app and the worker
    print(f"Mailroom is running at {url} (Ctrl-C to stop)", flush=True)
    print(f"Outbox: {url}/outbox (mail is captured, not sent)", flush=True)
    # SIGTERM (docker stop, timeout, kill) must stop the children too, as Ctrl-C does; and Ctrl-C
    # must work even when a shell started us with SIGINT ignored.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    signal.signal(signal.SIGINT, signal.default_int_handler)
    # Each child in its own process group: signals reach them only from here, once. (A Dramatiq
    # worker that got the terminal's Ctrl-C directly and then its parent's SIGTERM takes the second
    # signal as "kill now" and hangs.)
    commands = [
        [sys.executable, "-m", "webapp.cli", "capture-smtp", "--port", str(capture_port)],
        [sys.executable, "-m", "webapp.cli", "run"],
        worker_command(),
    ]
    children = [subprocess.Popen(command, start_new_session=True, env=worker_environment()) for command in commands]
    try:
        while all(child.poll() is None for child in children):
            with contextlib.suppress(subprocess.TimeoutExpired):
                children[0].wait(timeout=1)
    except KeyboardInterrupt:
        pass
    finally:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in children:
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)


def main(argv: list[str] | None = None) -> None:
    from webapp.core.access import Role

    parser = argparse.ArgumentParser(prog="mailroom", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="serve the web app (uses DATABASE_URL and REDIS_URL)")
    work = sub.add_parser("worker", help="run a Dramatiq worker for the send pipeline")
    lanes = work.add_mutually_exclusive_group()
    lanes.add_argument("--queues", nargs="+", metavar="QUEUE", help="only these queues, e.g. transactional")
    lanes.add_argument("--skip-queues", nargs="+", metavar="QUEUE", help="every queue but these")
    sub.add_parser("migrate", help="apply database migrations")
    create = sub.add_parser("create-user", help="create a staff account")
    create.add_argument("email")
    create.add_argument("--role", choices=[role.value for role in Role], default=Role.EDITOR.value)
    create.add_argument("--name", default="")
    create.add_argument("--password", help="omit to be prompted")
    capture = sub.add_parser("capture-smtp", help="SMTP server that stores mail for the Outbox page (dev mode)")
    capture.add_argument("--host", default="127.0.0.1")
    capture.add_argument("--port", type=int, help="default: MAILROOM_DEV_SMTP_PORT or 8025")
    sub.add_parser("dev", help="embedded PostgreSQL and Redis, migrations, capture SMTP, web and worker together")
    args = parser.parse_args(argv)
    match args.command:
        case "run":
            serve()
        case "worker":
            worker(args.queues or (), args.skip_queues or ())
        case "migrate":
            migrate()
        case "create-user":
            create_user(args)
        case "capture-smtp":
            capture_smtp(args)
        case "dev":
            dev()


if __name__ == "__main__":
    main()
