"""Import of a Parquet export (the inverse of Store.export_parquet): every table folder is read
in place, its columns checked against the schema, and all tables upserted in one transaction."""

from __future__ import annotations

from pathlib import Path

from kechuang.core.errors import ValidationError
from kechuang.data.schema import TABLES
from kechuang.data.store import Staging, ensure_store


def import_parquet(directory: str | Path, store_path: str | Path | None = None) -> dict[str, int]:
    root = Path(directory)
    if not root.is_dir():
        raise ValidationError("not a folder of Parquet files", path=str(root))
    path = ensure_store(store_path)
    counts: dict[str, int] = {}
    statements: list[str] = []
    with Staging(path) as st:
        for name, table in TABLES.items():
            folder = root / name
            files = sorted(folder.rglob("*.parquet")) if folder.is_dir() else []
            if not files:
                continue
            glob = str(folder / "**" / "*.parquet").replace("'", "''")
            try:
                st.sql(f"CREATE TEMP TABLE imp_{name} AS SELECT * FROM read_parquet('{glob}', "
                       "hive_partitioning = true, union_by_name = true)")
            except st.db_error as e:
                raise ValidationError(f"cannot read Parquet: {st.error_text(e)}",
                                      path=str(folder)) from None
            present = {c for c, _ in st.columns(f"imp_{name}")}
            for col in table.column_names:
                if col not in present:
                    raise ValidationError(f"missing column {col!r} for table {name}",
                                          path=str(folder), column=col)
            key = ", ".join(table.key)
            dup = st.fetchone(f"SELECT count(*) - count(DISTINCT ({key})) FROM imp_{name}")
            if dup and dup[0]:
                raise ValidationError(f"{dup[0]} duplicate keys ({key}) in table {name}",
                                      path=str(folder))
            cols = ", ".join(table.column_names)
            statements += table.upsert_sql(f"SELECT {cols} FROM imp_{name}", f"up_{name}")
            n = st.fetchone(f"SELECT count(*) FROM imp_{name}")
            counts[name] = int(n[0]) if n else 0
        if not counts:
            raise ValidationError("no table folders with Parquet files found", path=str(root))
        st.commit(statements)
    return counts
