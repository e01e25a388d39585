"""Ingest: files -> staging checks -> one transaction into the store.

A batch (one user file, or every bundled dataset) is loaded and checked in full before the store
is opened for writing; then all rows, the derived flags and the `datasets` rows are written in a
single transaction with upsert on each table's key, so a re-run adds nothing."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kechuang.core.errors import ValidationError
from kechuang.data import flags
from kechuang.data.bundled import BUNDLED, datasets_dir
from kechuang.data.inputs import USER_SPECS, InputSpec
from kechuang.data.schema import TABLES
from kechuang.data.store import Staging, ensure_store
from kechuang.data.validate import file_format, load_raw, stage_file

Progress = Callable[[str, int, int], None]  # (dataset name, done, total)


@dataclass(frozen=True)
class Item:
    name: str
    path: Path
    spec: InputSpec
    source: str
    as_of: dt.date | None
    notes: str = ""
    frame: Any = None  # rows given in memory instead of a file (path is then only a label)


@dataclass
class IngestReport:
    store: Path
    rows: dict[str, int] = field(default_factory=dict)  # dataset -> rows checked and upserted
    tables: dict[str, int] = field(default_factory=dict)  # table -> rows written (upserted)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _securities_view(st: Staging, staged: list[str]) -> None:
    parts = ["SELECT code, list_date FROM store.securities"]
    parts += [f"SELECT code, list_date FROM {s}" for s in staged]
    st.sql(f"CREATE OR REPLACE TEMP VIEW known_securities AS {' UNION ALL '.join(parts)}")


def _insert_sql(item: Item, staged: str) -> list[str]:
    spec = item.spec
    rel = spec.relation.format(t=staged)
    where = f" WHERE {spec.where}" if spec.where else ""
    return TABLES[spec.table].upsert_sql(f"SELECT {spec.select} FROM {rel}{where}", f"up_{staged}",
                                         materialize=False)


def run(items: Sequence[Item], store_path: str | Path | None = None,
        progress: Progress | None = None) -> IngestReport:
    path = ensure_store(store_path)
    report = IngestReport(store=path)
    statements: list[str] = []
    touched: set[str] = set()
    with Staging(path) as st:
        securities_staged: list[str] = []
        _securities_view(st, securities_staged)
        for i, item in enumerate(items):
            if progress:
                progress(item.name, i, len(items))
            name = f"staged_{i}"
            n = stage_file(st, item.path, item.spec, name, "known_securities", item.frame)
            if item.spec.table == "securities":
                securities_staged.append(name)
                _securities_view(st, securities_staged)
            report.rows[item.name] = n
            statements += _insert_sql(item, name)
            if item.spec.flag_rows:
                cond, kind, detail = item.spec.flag_rows
                statements += TABLES["bar_flags"].upsert_sql(
                    f"SELECT t.code, t.date, '{item.spec.table}', {kind}, NULL, '{detail}' "
                    f"FROM {name} t WHERE {cond}", f"fl_{name}")
            touched.add(item.spec.table)
            as_of = item.as_of or _max_date(st, name, item.spec)
            sha = sha256_file(item.path) if item.frame is None else _frame_sha(item.frame)
            statements += TABLES["datasets"].upsert_sql(
                f"SELECT '{_esc(item.name)}', '{item.spec.table}', '{_esc(item.source)}', "
                f"'{_esc(item.notes)}', {_date_sql(as_of)}, {n}, '{sha}', now()::TIMESTAMP",
                f"ds_{name}")
        for source, staged in _sources(items).items():
            codes = _codes_view(st, f"codes_{len(statements)}", staged)
            statements += flags.beyond_limit_flags_sql(source, codes)
        if touched & {"bars_daily", "adjustments"}:
            staged = [f"staged_{i}" for i, it in enumerate(items)
                      if it.spec.table in ("bars_daily", "adjustments")]
            statements += TABLES["adjustments"].upsert_sql(
                flags.estimated_adjustments_sql(_codes_view(st, "codes_est", staged)),
                "est_adjustments")
        if touched & {"financials", "revenue_segments"}:
            statements.append(flags.OVERSEAS_REVENUE_SQL)
        if progress:
            progress("commit", len(items), len(items))
        st.commit(statements)
    return report


def _frame_sha(frame: Any) -> str:
    import pandas as pd

    hashed = pd.util.hash_pandas_object(pd.DataFrame(frame), index=False).to_numpy()
    return hashlib.sha256(hashed.tobytes()).hexdigest()


def _esc(s: str) -> str:
    return s.replace("'", "''")


def _date_sql(d: dt.date | None) -> str:
    return f"DATE '{d}'" if d else "NULL"


def _max_date(st: Staging, staged: str, spec: InputSpec) -> dt.date | None:
    col = spec.session_date or next((c for c, t in spec.all_columns.items() if t == "DATE"), None)
    if not col:
        return None
    row = st.fetchone(f'SELECT max("{col}") FROM {staged}')
    return row[0] if row else None


def _sources(items: Sequence[Item]) -> dict[str, list[str]]:
    """bars series in the batch -> the staged tables holding its rows."""
    out: dict[str, list[str]] = {}
    for i, it in enumerate(items):
        if it.spec.bar_source:
            out.setdefault(it.spec.bar_source, []).append(f"staged_{i}")
    return out


def _codes_view(st: Staging, name: str, staged: list[str]) -> str:
    """A temp table of the distinct codes in the staged tables: derived data is recomputed
    for these codes only."""
    union = " UNION ".join(f"SELECT DISTINCT code FROM {s}" for s in staged)
    st.sql(f"CREATE OR REPLACE TEMP TABLE {name} AS {union}")
    return name


def ingest_file(path: str | Path, kind: str | None = None, store_path: str | Path | None = None,
                progress: Progress | None = None) -> IngestReport:
    p = Path(path)
    file_format(p)
    spec = USER_SPECS[kind] if kind else _guess_spec(p, store_path)
    item = Item(p.name, p, spec, f"file {p.name}", None, f"ingested from {p}")
    return run([item], store_path, progress)


def _guess_spec(path: Path, store_path: str | Path | None) -> InputSpec:
    with Staging(ensure_store(store_path)) as st:
        load_raw(st, path, "probe")
        cols = {c for c, _ in st.columns("probe")} - {"_row"}
    best = max(USER_SPECS.values(), key=lambda s: (len(cols & set(s.required)),
                                                   -len(set(s.required) - cols)))
    if not cols & set(best.required):
        raise ValidationError("columns match no input kind; expected one of: " + "; ".join(
            f"{k} ({', '.join(s.required)})" for k, s in USER_SPECS.items()), path=str(path))
    return best


def ingest_frame(frame: Any, kind: str | InputSpec, name: str, source: str,
                 store_path: str | Path | None = None, as_of: dt.date | None = None,
                 notes: str = "") -> IngestReport:
    """Check and upsert an in-memory frame (e.g. one batch from an online adapter) exactly as a
    file of that kind would be: same checks, one transaction, recorded in `datasets`."""
    spec = USER_SPECS[kind] if isinstance(kind, str) else kind
    item = Item(name, Path(f"<{name}>"), spec, source, as_of, notes, frame)
    return run([item], store_path)


def ingest_bundled(store_path: str | Path | None = None,
                   progress: Progress | None = None) -> IngestReport:
    root = datasets_dir()
    items = [Item(b.name, root / b.file, b.spec, b.source, b.as_of, b.notes) for b in BUNDLED]
    return run(items, store_path, progress)
