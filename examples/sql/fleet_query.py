"""The fleet recipe of docs/sql.md ("the classes that grew most"), read from
docs/sql.md itself, for the examples below and their tests."""

from __future__ import annotations

from pathlib import Path

DOCS = Path(__file__).resolve().parents[2] / "docs" / "sql.md"


def recipe(name: str = "class-growth") -> str:
    """The SQL of recipe ``name`` in docs/sql.md."""
    page = DOCS.read_text()
    start = page.index(f"<!-- recipe: {name} ")
    sql_start = page.index("```sql\n", start) + len("```sql\n")
    return page[sql_start : page.index("```", sql_start)]


TABLES = ("nodes", "edges", "classes", "roots", "strings", "sites", "collections")


def files_of(dataset: Path, table: str) -> str:
    """The glob of one table's files in a dataset (``dumps`` is ``dump.parquet``)."""
    name = "dump" if table == "dumps" else table
    return str(dataset / f"dump=*/{name}.parquet")
