"""The layout rules that import-linter cannot see: SQL is written only in queries modules (a
feature's queries.py or queries/ package), where it is named and commented; everything else calls
those functions. Models may use SQL expressions to declare indexes and generated columns."""

from __future__ import annotations

import ast
from pathlib import Path

WEBAPP = Path(__file__).resolve().parents[2] / "webapp"

# Names that build SQL statements or expressions.
SQL_BUILDERS = {
    "select", "insert", "update", "delete", "text", "func", "and_", "or_", "not_", "literal", "literal_column",
    "exists", "union", "union_all", "case", "cast", "true", "false", "null", "tuple_", "any_", "all_",
    "bindparam", "column", "table", "values", "distinct", "desc", "asc", "over", "lateral", "sql",
}  # fmt: skip
# Calls that send SQL to the database, on the names the code gives its sessions, connections and
# cursors (a Redis pipeline's execute() is not SQL).
SQL_RUNNERS = {"execute", "scalar", "scalars", "stream", "stream_scalars", "exec_driver_sql", "copy"}
DATABASE_NAMES = {"session", "db", "conn", "connection", "cur", "cursor"}


def _may_write_sql(path: Path) -> bool:
    parts = path.relative_to(WEBAPP).with_suffix("").parts
    return "queries" in parts or parts[-1] == "models"


def _offences(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in {"sqlalchemy", "psycopg"}:
            found += [f"line {node.lineno}: imports {a.name}" for a in node.names if a.name in SQL_BUILDERS]
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in SQL_RUNNERS
            and _receiver(node.func.value) in DATABASE_NAMES
        ):
            found.append(f"line {node.lineno}: calls .{node.func.attr}()")
    return found


def _receiver(node: ast.expr) -> str:
    """`session` for session.execute(), self.session.execute() and session().execute()."""
    while isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Attribute):
        return node.attr
    return node.id if isinstance(node, ast.Name) else ""


def test_sql_is_written_only_in_queries_modules():
    offences = {
        str(path.relative_to(WEBAPP)): found
        for path in sorted(WEBAPP.rglob("*.py"))
        if not _may_write_sql(path) and (found := _offences(path))
    }
    assert offences == {}


def test_the_check_sees_sql_where_it_is():
    """The rule above would pass vacuously if it found nothing anywhere."""
    queries = [path for path in WEBAPP.rglob("*.py") if "queries" in path.parts or path.stem == "queries"]
    assert len(queries) >= 10
    assert sum(1 for path in queries if _offences(path)) >= 10
