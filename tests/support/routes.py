"""Every route the app registers, read from the app itself, so sweeps over them (roles, CSRF) cover
a route added later without being told about it."""

from __future__ import annotations

import functools
from dataclasses import dataclass

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # with its parameters filled in
    template: str
    role: str | None  # what the handler demands beyond the default (viewer reads, editor writes)
    controller: str  # the class holding the handler, as named in webapp/routes.py

    @property
    def admin_only(self) -> bool:
        return self.role == "admin"


@functools.cache
def all_routes(number: int = 1) -> tuple[Route, ...]:
    """number: what each numeric parameter is filled in with (1 by default: every table starts empty,
    ids restart at 1, and the sweeps add a row to each)."""
    from webapp.app import create_app

    found = []
    for route in create_app().routes:
        for method, (handler, _) in getattr(route, "route_handler_map", {}).items():
            path = route.path_format
            for name, parameter in route.path_parameters.items():
                path = path.replace("{" + name + "}", str(number) if parameter.type is int else "x")
            controller = handler.fn.__qualname__.rpartition(".")[0]
            found.append(Route(method, path, route.path_format, handler.opt.get("role"), controller))
    return tuple(sorted(found, key=lambda r: (r.path, r.method)))


def unsafe_routes() -> list[Route]:
    return [r for r in all_routes() if r.method not in SAFE_METHODS]


def staff_page_routes() -> list[Route]:
    """The GET routes of the staff UI (webapp/routes.py STAFF_PAGES)."""
    from webapp.routes import STAFF_PAGES

    staff = {controller.__name__ for controller in STAFF_PAGES}
    return [r for r in all_routes() if r.method == "GET" and r.controller in staff]
