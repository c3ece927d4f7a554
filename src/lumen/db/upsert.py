"""INSERT … ON CONFLICT DO NOTHING, on either database."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert


def insert_ignoring_conflict(
    dialect: str, model: Any, values: dict[str, Any], conflict_on: list[str]
) -> Any:
    """The insert that makes N replicas doing the same thing create one row."""
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    return insert(model).values(**values).on_conflict_do_nothing(index_elements=conflict_on)
