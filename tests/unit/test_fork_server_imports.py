"""What each process's fork server imports before it forks the processes that run people's templates
and files (core/isolation.py). Every worker starts one, so what a worker's imports costs every
worker start, and each process it forks carries it: a worker's stays without the ORM and the
database driver. The web server's also imports the upload reader, which sums files up while
someone waits."""

from __future__ import annotations

import json
import os
import subprocess
import sys

HEAVY = ("sqlalchemy", "psycopg")


# Settings the app reads when it is made; nothing connects to them.
NOWHERE = {"REDIS_URL": "redis://127.0.0.1:9/0", "DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:9/none"}


def preloaded_by(setup: str) -> list[str]:
    """The modules a fresh process registers for its fork server after running `setup`."""
    script = f"import json\n{setup}\nfrom webapp.core import isolation\nprint(json.dumps(sorted(isolation._preload)))"
    env = {**os.environ, **NOWHERE}
    return json.loads(subprocess.run([sys.executable, "-c", script], capture_output=True, check=True, env=env).stdout)


def imported_with(modules: list[str]) -> set[str]:
    """What a fresh interpreter holds after importing `modules`, as the fork server does."""
    script = f"import importlib, sys\nfor m in {modules!r}: importlib.import_module(m)\nprint(' '.join(sys.modules))"
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, check=True, text=True)
    return set(run.stdout.split())


def test_a_workers_fork_server_imports_the_renderer_without_the_orm():
    worker = preloaded_by("import webapp.worker")
    assert "webapp.templates.service.renderer" in worker
    assert "webapp.imports.service.reading" not in worker  # imported by each import's reading process
    assert not {*HEAVY} & imported_with(worker)


def test_the_web_servers_fork_server_also_imports_the_upload_reader():
    web = preloaded_by("from webapp.app import create_app\ncreate_app()")
    assert {"webapp.templates.service.renderer", "webapp.imports.service.reading", "openpyxl"} <= set(web)
