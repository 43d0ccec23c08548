"""Filters and globals available in every staff template."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from litestar.plugins.jinja import JinjaTemplateEngine

from webapp.core.addresses import host_port
from webapp.core.assets import static_url
from webapp.core.charts.scales import figure


def number(value: Any) -> str:
    return f"{int(value or 0):,}"


def percent(value: float) -> str:
    """A rate in percent as the reports write it: 41.2%, 0.05%."""
    return figure(value, "%")


def when(value: datetime | None, seconds: bool = False) -> str:
    """To the minute, or to the second for what is due within a minute or two (a retry)."""
    return value.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M") if value else "—"


def in_zone(value: datetime | None, zone: str) -> str:
    """A time in the campaign's time zone, named, e.g. "2026-01-15 10:00 Europe/Madrid"; with the zone's
    abbreviation too when that wall time happens twice ("2027-10-31 01:30 BST (Europe/London)")."""
    if value is None:
        return ""
    try:
        tz = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        tz, zone = ZoneInfo("UTC"), "UTC"
    local = value.astimezone(tz)
    if local.replace(fold=1 - local.fold).utcoffset() != local.utcoffset():  # the clocks go back: it happens twice
        return local.strftime("%Y-%m-%d %H:%M ") + f"{local.tzname()} ({zone})"
    return local.strftime("%Y-%m-%d %H:%M ") + zone


def json_text(value: Any) -> str:
    """JSON to read on a page (escaped there like any text), not to embed in a script as `tojson`
    makes it, with <, > and & as \\u escapes."""
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def query(params: dict[str, Any], **changes: Any) -> str:
    """Query string for the current filters with some changed; empty values are dropped."""
    merged = {**params, **changes}
    return urlencode({k: v for k, v in merged.items() if v not in (None, "", False)})


def pop_flashes(request: Any) -> list[dict[str, str]]:
    """Flash messages for this page; none on responses made outside the session middleware (404s)."""
    if not isinstance(request.scope.get("session"), dict):
        return []
    messages: list[dict[str, str]] = request.session.pop("_messages", [])
    return messages


def register_template_helpers(engine: JinjaTemplateEngine) -> None:
    env = engine.engine
    env.filters["number"] = number
    env.filters["when"] = when
    env.filters["in_zone"] = in_zone
    env.filters["percent"] = percent
    env.filters["json_text"] = json_text
    env.globals["query"] = query
    env.globals["host_port"] = host_port
    env.globals["pop_flashes"] = pop_flashes
    env.globals["static_url"] = static_url
    env.trim_blocks = True
    env.lstrip_blocks = True
