"""Schemathesis hooks for tests/integration/test_api_fuzz.py (loaded by `st run` through
SCHEMATHESIS_HOOKS): ids in paths name the seeded objects (from MAILROOM_FUZZ_IDS, a JSON object
of path parameter -> ids), taken in turn, so each operation gets past its 404 to its real work."""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Iterator
from typing import Any

import schemathesis

IDS: dict[str, Iterator[int]] = {
    name: itertools.cycle(ids) for name, ids in json.loads(os.environ["MAILROOM_FUZZ_IDS"]).items()
}


@schemathesis.hook
def map_path_parameters(context: Any, path_parameters: dict[str, Any] | None) -> dict[str, Any] | None:
    if path_parameters:
        for name in path_parameters.keys() & IDS.keys():
            path_parameters[name] = next(IDS[name])
    return path_parameters
