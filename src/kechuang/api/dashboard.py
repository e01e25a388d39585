"""Glue for the reports and the web dashboard: reads the store (names, the STAR 50 series),
calls the area APIs (``api.backtest``, ``api.index``, ``api.board``) and the report builders,
and returns JSON-safe payloads with Plotly figures.

Results that take long to compute and only depend on the store (the rebuilt index, the full
breadth table, the census) are cached per store file and its modification time."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kechuang.core.errors import MissingDataError, StarError, ValidationError
from kechuang.data.store import default_path, open_store
from kechuang.reports import breadth_report, index_report, tearsheet
from kechuang.reports.common import BENCHMARK_NAME, figure, fmt_date, jsonable, label, values

PathLike = str | Path
BENCHMARK = "000688"
# "broad rally" sessions shown with the index: the seed's "+4% with only 2 of 50 down" pattern
RALLY_MIN_RETURN = 0.03
RALLY_MAX_FELL = 5

_CACHE: dict[tuple[Any, ...], Any] = {}
_LOCKS: dict[tuple[Any, ...], threading.Lock] = {}
_GUARD = threading.Lock()


def store_path(db: PathLike | None) -> Path:
    p = Path(db) if db is not None else default_path()
    if not p.exists():
        raise MissingDataError(f"no store at {p}; run `kechuang ingest --bundled` or "
                               f"`kechuang demo --no-serve`")
    return p.resolve()


def cached(key: str, db: PathLike | None, fn: Callable[[], Any], *args: Any) -> Any:
    """fn() once per (key, args, store file, its mtime); concurrent callers wait for one run."""
    p = store_path(db)
    k = (key, args, str(p), p.stat().st_mtime_ns)
    if k in _CACHE:
        return _CACHE[k]
    with _GUARD:
        lock = _LOCKS.setdefault(k, threading.Lock())
    with lock:
        if k not in _CACHE:
            if len(_CACHE) > 64:
                _CACHE.clear()
            _CACHE[k] = fn()
    return _CACHE[k]


# ----------------------------------------------------------------------------- reference data
def names(db: PathLike | None = None) -> dict[str, str]:
    """Code -> Chinese short name for STAR securities and funds (ETFs)."""
    def load() -> dict[str, str]:
        with open_store(db) as s:
            sec = s.query("SELECT code, name FROM securities")
            fund = s.query("SELECT code, name FROM funds")
        out = {str(c): str(n) for c, n in fund.itertuples(index=False) if isinstance(n, str)}
        out.update({str(c): str(n) for c, n in sec.itertuples(index=False)
                    if isinstance(n, str)})
        return out
    return dict(cached("names", db, load))


def benchmark(db: PathLike | None = None) -> pd.Series:
    """The official STAR 50 closes (index_levels 000688)."""
    def load() -> pd.Series:
        with open_store(db) as s:
            b = s.query("SELECT date, close FROM index_levels WHERE index_code = ? "
                        "ORDER BY date", [BENCHMARK])
        return pd.Series(b["close"].to_numpy(dtype=float), index=pd.to_datetime(b["date"]),
                         name=BENCHMARK_NAME)
    return cached("benchmark", db, load)


def star50_today(db: PathLike | None = None) -> dict[str, Any]:
    b = benchmark(db).dropna()
    if len(b) < 2:
        raise MissingDataError("no STAR 50 levels (index_levels 000688) in the store")
    last, prev = float(b.iloc[-1]), float(b.iloc[-2])
    tail = b.iloc[-250:]
    fig = figure([{"type": "scatter", "mode": "lines", "x": [fmt_date(d) for d in tail.index],
                   "y": values(tail), "name": "000688", "line": {"color": "#1f4e79"}}],
                 "科创50 STAR 50, last 250 sessions (official)", showlegend=False, height=280)
    return {"date": fmt_date(b.index[-1]), "close": last, "previous": prev,
            "change": last - prev, "change_pct": 100.0 * (last / prev - 1.0),
            "source": "index_levels 000688 (official closes)", "figure": fig}


# ----------------------------------------------------------------------------- backtests
def strategies() -> dict[str, Any]:
    from kechuang.strategies import STRATEGIES

    out = {}
    for name, cls in STRATEGIES.items():
        params = {}
        for k, f in cls.model_fields.items():
            default = None if f.is_required() else f.get_default(call_default_factory=True)
            params[k] = {"default": jsonable(default), "required": f.is_required(),
                         "type": getattr(f.annotation, "__name__", str(f.annotation))}
        doc = " ".join((cls.__doc__ or "").split())
        universe = None
        if not any(p["required"] for p in params.values()):
            try:
                inst = cls()
                universe = inst.universe() if hasattr(inst, "universe") else None
            except Exception:  # a default that needs codes: the form asks for them
                universe = None
        out[name] = {"doc": doc, "shape": cls.shape, "params": params, "universe": universe}
    return out


def run_backtest(strategy: str, codes: Sequence[str] | None, start: Any = None,
                 end: Any = None, params: dict[str, Any] | None = None, rules: str = "star",
                 fill: str = "close", db: PathLike | None = None) -> Any:
    from kechuang.api import backtest as bt

    return bt.backtest(strategy, list(codes) if codes else None, start, end, rules=rules,
                       fill=fill, db=store_path(db), **(params or {}))


def backtest_payload(res: Any, db: PathLike | None = None, figures: bool = True
                     ) -> dict[str, Any]:
    nm = names(db)
    out = jsonable(res.summary())
    out["codes"] = [{"code": c, "name": nm.get(c, "")} for c in res.positions.columns]
    out["stats_table"] = tearsheet.stats_rows(res.stats)
    out["correlation_table"] = tearsheet.correlation_rows(res, nm)
    if figures:
        out["figures"] = tearsheet.figures(res, benchmark(db), nm)  # built JSON-safe
    return out


def sweep_payload(strategy: str, codes: Sequence[str] | None, x: str, xs: Sequence[Any],
                  y: str, ys: Sequence[Any], stat: str = "sharpe", start: Any = None,
                  end: Any = None, params: dict[str, Any] | None = None, rules: str = "star",
                  db: PathLike | None = None) -> dict[str, Any]:
    """A grid over two parameters; the heatmap shows `stat` (averaged over codes for column
    strategies)."""
    from kechuang.api import backtest as bt

    if x == y:
        raise ValidationError(f"the two sweep parameters must differ (both {x!r})")
    table = bt.sweep(strategy, {x: list(xs), y: list(ys)}, list(codes) if codes else None,
                     start, end, rules=rules, db=store_path(db), **(params or {}))
    if stat not in table.columns:
        known = [c for c in table.columns if c not in (x, y, "code")]
        raise ValidationError(f"stat={stat!r} is not a statistic of the sweep results; "
                              f"known: {', '.join(known)}")
    grid = table.groupby([y, x])[stat].mean().unstack()
    grid = grid.reindex(index=list(ys), columns=list(xs))
    z = [values(r) for r in grid.to_numpy(dtype=float)]
    fig = figure([{"type": "heatmap", "z": z, "x": [str(v) for v in grid.columns],
                   "y": [str(v) for v in grid.index], "colorscale": "RdBu", "reversescale":
                   True, "colorbar": {"title": {"text": stat}},
                   "text": [[("" if v is None else f"{v:.2f}") for v in r] for r in z],
                   "texttemplate": "%{text}"}],
                 f"{stat} over {x} × {y} ({strategy})", xaxis={"title": x, "type": "category"},
                 yaxis={"title": y, "type": "category"}, height=420)
    sv = table[stat].to_numpy(dtype=float)
    best = table.iloc[int(np.nanargmax(sv))] if np.isfinite(sv).any() else None
    return {"strategy": strategy, "x": x, "y": y, "stat": stat, "n_runs": len(table),
            "figure": fig, "best": jsonable(best.to_dict()) if best is not None else None,
            "table": jsonable(table.head(500))}


# ----------------------------------------------------------------------------- index, breadth
def index_result(db: PathLike | None = None, code: str = BENCHMARK) -> Any:
    from kechuang.api import index as ix

    return cached("index", db, lambda: ix.index(code, db=store_path(db)), code)


def index_bundle(db: PathLike | None = None, code: str = BENCHMARK) -> dict[str, Any]:
    """The rebuilt index with the official series, tracking figures and the next review."""
    from kechuang.api import index as ix

    def load() -> dict[str, Any]:
        res = index_result(db, code)
        p = store_path(db)
        with open_store(p) as s:
            off = s.query("SELECT date, close FROM index_levels WHERE index_code = ? "
                          "ORDER BY date", [res.spec.code])
        official = pd.Series(off["close"].to_numpy(dtype=float),
                             index=pd.to_datetime(off["date"]))
        fid = ix.fidelity(code, db=p, result=res)
        try:
            rev: dict[str, Any] | None = ix.review(code, db=p)
        except StarError:
            rev = None
        try:
            days: pd.DataFrame | None = ix.attribution_days(code, RALLY_MIN_RETURN,
                                                            RALLY_MAX_FELL, db=p, result=res)
        except StarError:
            days = None
        return {"result": res, "official": official, "fidelity": fid, "review": rev,
                "rally_days": days}
    return cached("index_bundle", db, load, code)


def rally_rows(days: pd.DataFrame | None, names_: dict[str, str]) -> list[dict[str, Any]]:
    if days is None:
        return []
    rows: list[dict[str, Any]] = jsonable(days)
    for r in rows:
        r["top_contributor"] = label(str(r["top_contributor"]), names_)
    return rows


def index_payload(db: PathLike | None = None, code: str = BENCHMARK) -> dict[str, Any]:
    b = index_bundle(db, code)
    res, nm = b["result"], names(db)
    w = index_report.last_weights(res, nm)
    rev = b["review"]
    out = {"index": res.spec.code, "name": res.spec.name,
           "first": fmt_date(res.levels["date"].iloc[0]),
           "last": fmt_date(res.levels["date"].iloc[-1]),
           "level": res.levels["level"].iloc[-1],
           "fidelity": {k: v for k, v in b["fidelity"].items() if k in ("full", "live")},
           "weights": [{"code": r.code, "name": r.name, "weight": r.weight}
                       for r in w.itertuples()],
           "review": None if rev is None else {
               "as_of": fmt_date(rev.get("as_of")),
               "next_review": fmt_date(rev.get("next_review")),
               "entrants": [{"code": c, "name": nm.get(c, "")} for c in rev["entrants"]],
               "leavers": [{"code": c, "name": nm.get(c, "")} for c in rev["leavers"]]},
           "rally_days": rally_rows(b.get("rally_days"), nm),
           "rally_rule": f"index up at least {RALLY_MIN_RETURN:.0%} with at most "
                         f"{RALLY_MAX_FELL} constituents down",
           "figures": {"level": index_report.level_figure(res, b["official"]),
                       "weights": index_report.weights_figure(res, nm)},
           "notes": list(dict.fromkeys(str(n) for n in res.notes))}
    return jsonable(out)


def breadth_table(db: PathLike | None = None, universe: str = "board", start: Any = None,
                  end: Any = None) -> tuple[pd.DataFrame, str, list[str]]:
    from kechuang.api import index as ix

    def load() -> tuple[pd.DataFrame, str, list[str]]:
        b = ix.breadth(universe, start, end, db=store_path(db))
        return b.table, b.universe, list(b.notes)
    return cached("breadth", db, load, universe, str(start), str(end))


def breadth_payload(db: PathLike | None = None, universe: str = "board", start: Any = None,
                    end: Any = None, figures: bool = True) -> dict[str, Any]:
    t, label_, notes = breadth_table(db, universe, start, end)
    last = t.iloc[-1]
    out: dict[str, Any] = {"universe": label_, "first": fmt_date(t["date"].iloc[0]),
                           "last": fmt_date(t["date"].iloc[-1]), "sessions": len(t),
                           "latest": jsonable(last.to_dict()), "notes": notes}
    if figures:
        out["figures"] = breadth_report.figures(t, label_)  # built JSON-safe
    return out


# ----------------------------------------------------------------------------- board
def census_payload(as_of: Any = None, db: PathLike | None = None) -> dict[str, Any]:
    from kechuang.api import board

    def load() -> dict[str, Any]:
        p = store_path(db)
        d = as_of
        if d is None:
            with open_store(p) as s:
                d = board.census_sources(s).master_as_of
        return jsonable(board.census(d, db=p).to_dict())
    return cached("census", db, load, str(as_of))


def overview(db: PathLike | None = None) -> dict[str, Any]:
    """The dashboard's front page: board snapshot, STAR 50 today, latest breadth. A part the
    data cannot support carries its one-line reason instead of figures."""
    out: dict[str, Any] = {}
    parts: list[tuple[str, Callable[[], Any]]] = [
        ("star50", lambda: star50_today(db)),
        ("board", lambda: census_payload(None, db)),
        ("breadth", lambda: breadth_payload(db, figures=False))]
    for key, fn in parts:
        try:
            out[key] = fn()
        except StarError as e:
            out[key] = {"error": str(e)}
    return out


def board_as_of(db: PathLike | None = None) -> dt.date:
    """The company master's snapshot date: the latest date the census supports."""
    from kechuang.api import board

    with open_store(store_path(db)) as s:
        return board.census_sources(s).master_as_of


def board_report_html(as_of: Any = None, db: PathLike | None = None) -> str:
    """The board report (``reports/board.py``, owned by the board area) as HTML."""
    from kechuang.api import board
    from kechuang.reports import board as rb

    def load() -> str:
        import inspect

        from kechuang.reports.common import PLOTLY_JS_NAME

        d = as_of or board_as_of(db)
        data = board.report_data(d, store_path(db))
        if "plotly" not in inspect.signature(rb.render_html).parameters:
            return str(rb.render_html(data))
        # the dashboard serves Plotly itself: load it from there instead of inlining 4.8 MB
        page = str(rb.render_html(data, plotly="beside"))
        return page.replace(f'<script src="{PLOTLY_JS_NAME}">',
                            '<script src="/static/plotly.min.js">')
    return cached("board_report", db, load, str(as_of))


# ----------------------------------------------------------------------------- report files
SEED_RUNS: list[tuple[str, str, list[str] | None, dict[str, Any]]] = [
    ("bt_dca_588000", "dca", ["588000"], {"amount": 1000.0}),
    ("bt_grid_688981", "grid", ["688981"], {}),
    ("bt_core_satellite", "core_satellite", None, {}),
    ("bt_ma_cross_688981", "ma_cross", ["688981"], {}),
]


def write_reports(out: PathLike = "reports", db: PathLike | None = None,
                  log: Callable[[str], None] | None = None, png: bool = True
                  ) -> dict[str, Any]:
    """Every report into `out`: backtest tearsheets of the seeds' strategies, an MA sweep,
    the STAR 50 index report, the breadth report and the board report when available. A
    part that fails on the data is listed with its reason, the others are still written."""
    d = Path(out)
    d.mkdir(parents=True, exist_ok=True)
    say = log or (lambda s: None)
    p = store_path(db)
    nm = names(p)
    written: list[str] = []
    failed: dict[str, str] = {}
    stats: dict[str, Any] = {}
    for stem, strat, codes, params in SEED_RUNS:
        try:
            res = run_backtest(strat, codes, params=params, db=p)
            rep = tearsheet.build(res, benchmark(p), nm,
                                  f"Backtest tearsheet: {strat} "
                                  f"({', '.join(label(c, nm) for c in res.positions.columns)})")
            written += [str(x) for x in rep.write(d, stem, png=png)]
            stats[stem] = {k: jsonable(res.stats.get(k)) for k in
                           ("total_return", "cagr", "volatility", "sharpe", "max_drawdown",
                            "final_value", "money_weighted_return") if k in res.stats}
            say(f"wrote {stem}.html")
        except StarError as e:
            failed[stem] = str(e)
    try:
        sw = sweep_payload("ma_cross", ["688981"], "fast", [5, 10, 20, 30], "slow",
                           [40, 60, 120, 250], db=p)
        tbl = pd.DataFrame(sw["table"])
        tbl.to_csv(d / "sweep_ma_cross_688981.csv", index=False)
        from kechuang.reports.common import Report, table_html

        rep = Report("Sweep: MA crossover on 688981 " + nm.get("688981", ""),
                     "Sharpe over fast × slow SMA windows, STAR rules, fill at close")
        rep.chart("sweep", sw["figure"])
        cols = ["fast", "slow", "total_return", "sharpe", "max_drawdown", "n_fills"]
        rep.html(table_html(cols, [[jsonable(r[c]) for c in cols] for _, r in tbl.iterrows()]))
        written += [str(x) for x in rep.write(d, "sweep_ma_cross_688981", png=False)]
        written.append(str(d / "sweep_ma_cross_688981.csv"))
        stats["sweep_ma_cross_688981"] = {"best": sw["best"]}
    except StarError as e:
        failed["sweep_ma_cross_688981"] = str(e)
    try:
        b = index_bundle(p)
        rep = index_report.build(b["result"], b["official"], b["fidelity"], b["review"], nm,
                                 rally_rows(b.get("rally_days"), nm))
        written += [str(x) for x in rep.write(d, "index_000688", png=png)]
        say("wrote index_000688.html")
    except StarError as e:
        failed["index_000688"] = str(e)
    try:
        t, lab, notes = breadth_table(p)
        rep = breadth_report.build(t, lab, notes)
        written += [str(x) for x in rep.write(d, "breadth_board", png=png)]
        say("wrote breadth_board.html")
    except StarError as e:
        failed["breadth_board"] = str(e)
    try:
        from kechuang.api import board

        res = board.report(board_as_of(p), d, p)
        written += [str(x) for x in res["paths"].values()]
        say("wrote the board report")
    except StarError as e:
        failed["board"] = str(e)
    _index_page(d, written, failed)
    return {"directory": str(d.resolve()), "written": written, "failed": failed,
            "stats": stats}


def _index_page(d: Path, written: list[str], failed: dict[str, str]) -> None:
    import html

    items = sorted({Path(w).name for w in written if w.endswith((".html", ".md", ".csv"))})
    body = "".join(f'<li><a href="{html.escape(n)}">{html.escape(n)}</a></li>' for n in items)
    fails = "".join(f"<li>{html.escape(k)}: {html.escape(v)}</li>" for k, v in failed.items())
    (d / "index.html").write_text(
        "<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>kechuang "
        f"reports</title></head><body><h1>kechuang reports</h1><p>written "
        f"{dt.datetime.now().strftime('%Y-%m-%d %H:%M')}</p><ul>{body}</ul>"
        + (f"<h2>Not written</h2><ul>{fails}</ul>" if fails else "") + "</body></html>",
        encoding="utf-8")
