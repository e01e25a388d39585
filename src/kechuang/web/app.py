"""The dashboard: a FastAPI app with a JSON API under /api/ (described by OpenAPI at
/openapi.json) and HTML pages that draw the API's Plotly figures.

Safety and limits:
- every endpoint takes typed, bounded parameters (codes are 6 digits, dates are dates, lists
  have a maximum length); no endpoint runs SQL given by the user or reads a path the user names,
  and the store is the one the server was started with;
- a request body over ``max_body_bytes`` gets 413; a backtest or sweep over a size limit
  (codes, grid values, combinations) gets 422 naming the limit and the field; a run that
  exceeds its run-time limit gets 408 naming the limit; when ``max_queued_runs`` runs already
  wait for a slot, 429;
- bad parameters get 422 with the field named (FastAPI's validation, and the one-line
  ``StarError`` of the layer below mapped onto the field it is about)."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass
from enum import Enum
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

import anyio
from fastapi import FastAPI, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from kechuang.api import dashboard as dash
from kechuang.core.errors import DateRangeError, StarError, UnknownCodeError
from kechuang.strategies import STRATEGIES
from kechuang.web import pages

STATIC = Path(__file__).with_name("static")

Code = Annotated[str, StringConstraints(pattern=r"^(SH)?\d{6}(\.SH)?$", max_length=9)]
StrategyName = Enum("StrategyName", {n: n for n in sorted(STRATEGIES)}, type=str)  # type: ignore
IndexCode = Literal["000688"]  # the index the engine rebuilds with data in the store
ParamValue = float | int | bool | str | dict[str, float] | None


@dataclass(frozen=True)
class Limits:
    """Request-size and run-time limits of the API (named in the 4xx responses)."""

    max_body_bytes: int = 16_384
    max_codes: int = 20
    max_params: int = 12
    max_grid_values: int = 25
    max_combinations: int = 400          # column strategies (MA, grid): one numba sweep
    max_portfolio_combinations: int = 36  # allocation strategies: one backtest per combination
    max_sweep_cells: int = 4_000          # combinations x codes
    max_run_seconds: float = 10.0         # one backtest, waiting for a slot included
    max_sweep_seconds: float = 30.0
    max_concurrent_runs: int = 4
    max_queued_runs: int = 64


class LimitError(Exception):
    def __init__(self, status: int, limit: str, msg: str, loc: list[str | int] | None = None):
        super().__init__(msg)
        self.status, self.limit, self.msg, self.loc = status, limit, msg, loc or ["body"]


class BacktestRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    strategy: StrategyName = Field(description="Strategy name (GET /api/strategies).")
    codes: list[Code] | None = Field(None, description="6-digit codes (STAR stocks or ETFs); "
                                     "empty for strategies with their own universe.")
    start: dt.date | None = None
    end: dt.date | None = None
    params: dict[str, ParamValue] = Field(default_factory=dict,
                                          description="Strategy parameters by name.")
    rules: Literal["star", "none"] = "star"
    fill: Literal["close", "next_open"] = "close"
    figures: bool = Field(True, description="Include the tearsheet's Plotly figures.")


class Axis(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Annotated[str, StringConstraints(pattern=r"^[a-z_]{1,32}$")]
    values: list[float | int] = Field(min_length=1)


class SweepRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    strategy: StrategyName
    codes: list[Code] | None = None
    start: dt.date | None = None
    end: dt.date | None = None
    params: dict[str, ParamValue] = Field(default_factory=dict)
    rules: Literal["star", "none"] = "star"
    x: Axis
    y: Axis
    stat: Annotated[str, StringConstraints(pattern=r"^[a-z_]{1,40}$")] = "sharpe"


class ListingRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    date: dt.date = Field(description="Date the rules are applied on (they are dated).")
    market_value: float | None = Field(None, ge=0, description="Expected market value, CNY.")
    net_profit: tuple[float, float] | None = Field(
        None, description="Net profit (last year, year before), CNY.")
    net_profit_deducted: tuple[float, float] | None = Field(
        None, description="Net profit after non-recurring items (last year, year before), CNY.")
    revenue: float | None = Field(None, ge=0, description="Revenue last year, CNY.")
    revenue_3y: float | None = Field(None, ge=0)
    rd_3y: float | None = Field(None, ge=0, description="R&D investment over 3 years, CNY.")
    cfo_3y: float | None = None
    industry: Annotated[str, StringConstraints(max_length=60)] | None = None
    product_approval: bool | None = None
    phase2_approved: bool | None = None
    tech_advantage: bool | None = None
    red_chip: bool = False
    listed_overseas: bool = False
    fast_growth_leading_tech: bool | None = None
    wvr: bool = False


def _loc_for(e: StarError, fields: dict[str, list[str | int]]) -> list[str | int]:
    """The request field a one-line error is about (best effort from the message)."""
    msg = str(e)
    m = re.search(r"parameter '?([A-Za-z_][A-Za-z0-9_]*)'?", msg)
    if m and m.group(1) in fields:
        return fields[m.group(1)]
    if m and "params" in fields:
        return [*fields["params"], m.group(1)]
    col = getattr(e, "column", None)
    if isinstance(col, str) and col in fields.get("_columns", []):
        return ["body", col]
    if isinstance(e, UnknownCodeError) and "codes" in fields:
        return fields["codes"]
    if isinstance(e, DateRangeError) and "start" in fields:
        return fields["start"]
    for name, loc in fields.items():
        if not name.startswith("_") and re.search(rf"\b{re.escape(name)}\b", msg):
            return loc
    return fields.get("_default", ["body"])


class FieldError(Exception):
    def __init__(self, e: StarError, loc: list[str | int]):
        super().__init__(str(e))
        self.loc, self.msg, self.kind = loc, str(e), type(e).__name__


def create_app(db: str | Path | None = None, limits: Limits | None = None,
               warm: bool = True) -> FastAPI:
    """The app over the store `db` (default ./kechuang.duckdb or $KECHUANG_DB). With `warm`,
    the slow, store-only results (overview, rebuilt index) are computed in the background at
    startup so the first page views are fast."""
    store = dash.store_path(db)
    lim = limits or Limits()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if warm:
            threading.Thread(target=_warm, args=(store,), daemon=True).start()
        yield
    # /docs and /redoc would load their JavaScript from a CDN: off; /openapi.json stays.
    app = FastAPI(title="kechuang dashboard", version="0.1.0", docs_url=None, redoc_url=None,
                  lifespan=lifespan,
                  description="STAR Market (科创板) data, index, breadth, backtests and board "
                              "analytics over a local store. Limits: "
                              + ", ".join(f"{k}={v}" for k, v in asdict(lim).items()))
    app.state.db, app.state.limits = store, lim
    slots = anyio.CapacityLimiter(lim.max_concurrent_runs)
    waiting = {"n": 0}
    waiting_lock = threading.Lock()

    @app.middleware("http")
    async def body_limit(request: Request, call_next: Callable[[Request], Any]) -> Response:
        n = request.headers.get("content-length")
        if n is not None and (not n.isdigit() or int(n) > lim.max_body_bytes):
            return JSONResponse(status_code=413, content={"detail": [{
                "loc": ["body"], "type": "max_body_bytes",
                "msg": f"request body of {n} bytes is over the limit max_body_bytes="
                       f"{lim.max_body_bytes}"}]})
        if n is None and request.method in ("POST", "PUT", "PATCH"):
            body = await request.body()
            if len(body) > lim.max_body_bytes:
                return JSONResponse(status_code=413, content={"detail": [{
                    "loc": ["body"], "type": "max_body_bytes",
                    "msg": f"request body of {len(body)} bytes is over the limit "
                           f"max_body_bytes={lim.max_body_bytes}"}]})
        resp: Response = await call_next(request)
        return resp

    @app.exception_handler(FieldError)
    async def field_error(request: Request, e: FieldError) -> JSONResponse:
        return JSONResponse(status_code=422, content={"detail": [
            {"loc": e.loc, "msg": e.msg, "type": e.kind}]})

    @app.exception_handler(StarError)
    async def star_error(request: Request, e: StarError) -> JSONResponse:
        return JSONResponse(status_code=422, content={"detail": [
            {"loc": ["query"], "msg": str(e), "type": type(e).__name__}]})

    @app.exception_handler(LimitError)
    async def limit_error(request: Request, e: LimitError) -> JSONResponse:
        return JSONResponse(status_code=e.status, content={"detail": [
            {"loc": e.loc, "msg": e.msg, "type": e.limit}]})

    def call(fn: Callable[[], Any], fields: dict[str, list[str | int]]) -> Any:
        try:
            return fn()
        except StarError as e:
            raise FieldError(e, _loc_for(e, fields)) from None

    async def run_limited(fn: Callable[[], Any], seconds: float, limit_name: str) -> Any:
        with waiting_lock:
            if waiting["n"] >= lim.max_queued_runs:
                raise LimitError(429, "max_queued_runs",
                                 f"{waiting['n']} runs are waiting; over the limit "
                                 f"max_queued_runs={lim.max_queued_runs}")
            waiting["n"] += 1
        try:
            with anyio.move_on_after(seconds) as scope:
                async with slots:
                    return await anyio.to_thread.run_sync(fn, abandon_on_cancel=True)
            if scope.cancelled_caught:
                raise LimitError(408, limit_name, f"the run took longer than the limit "
                                 f"{limit_name}={seconds:g} s; narrow the codes, dates or grid")
        finally:
            with waiting_lock:
                waiting["n"] -= 1

    bt_fields: dict[str, list[str | int]] = {
        "params": ["body", "params"], "codes": ["body", "codes"], "start": ["body", "start"],
        "end": ["body", "end"], "strategy": ["body", "strategy"], "rules": ["body", "rules"],
        "_default": ["body"]}

    def param_fields(strategy: str) -> dict[str, list[str | int]]:
        """The strategy's own parameters first: a message about `weights` is about them."""
        return {k: ["body", "params", k] for k in STRATEGIES[strategy].model_fields}

    def check_codes(codes: list[str] | None) -> None:
        if codes and len(codes) > lim.max_codes:
            raise LimitError(422, "max_codes", f"{len(codes)} codes; the limit is "
                             f"max_codes={lim.max_codes}", ["body", "codes"])

    def check_params(params: dict[str, Any]) -> None:
        if len(params) > lim.max_params:
            raise LimitError(422, "max_params", f"{len(params)} parameters; the limit is "
                             f"max_params={lim.max_params}", ["body", "params"])

    # ------------------------------------------------------------------ JSON API
    @app.get("/api/health", tags=["meta"])
    def health() -> dict[str, Any]:
        """Liveness, the store in use and the limits."""
        return {"status": "ok", "store": store.name, "limits": asdict(lim)}

    @app.get("/api/overview", tags=["board"])
    def overview() -> dict[str, Any]:
        """Board snapshot, STAR 50 today and the latest breadth."""
        return dash.overview(store)

    @app.get("/api/strategies", tags=["backtest"])
    def strategies() -> dict[str, Any]:
        """Strategies with their parameters and defaults."""
        return dash.strategies()

    @app.post("/api/backtest", tags=["backtest"], response_model=dict[str, Any])
    async def backtest(req: BacktestRequest) -> Response:
        """Run one backtest on the store's data; statistics, fees, blocked orders and the
        tearsheet's figures."""
        check_codes(req.codes)
        check_params(req.params)

        fields = {**param_fields(req.strategy.value), **bt_fields}

        def run() -> dict[str, Any]:
            res = call(lambda: dash.run_backtest(req.strategy.value, req.codes, req.start,
                                                 req.end, req.params, req.rules, req.fill,
                                                 store), fields)
            return dash.backtest_payload(res, store, figures=req.figures)
        out: dict[str, Any] = await run_limited(run, lim.max_run_seconds, "max_run_seconds")
        return json_response(out)

    @app.post("/api/sweep", tags=["backtest"], response_model=dict[str, Any])
    async def sweep(req: SweepRequest) -> Response:
        """A grid over two strategy parameters: a heatmap of one statistic."""
        check_codes(req.codes)
        check_params(req.params)
        for ax in ("x", "y"):
            n = len(getattr(req, ax).values)
            if n > lim.max_grid_values:
                raise LimitError(422, "max_grid_values", f"{n} values on axis {ax}; the limit "
                                 f"is max_grid_values={lim.max_grid_values}",
                                 ["body", ax, "values"])
        combos = len(req.x.values) * len(req.y.values)
        shape = STRATEGIES[req.strategy.value].shape
        cap = lim.max_combinations if shape == "columns" else lim.max_portfolio_combinations
        name = "max_combinations" if shape == "columns" else "max_portfolio_combinations"
        if combos > cap:
            raise LimitError(422, name, f"{combos} combinations; the limit for {shape} "
                             f"strategies is {name}={cap}", ["body"])
        cells = combos * max(1, len(req.codes or []))
        if cells > lim.max_sweep_cells:
            raise LimitError(422, "max_sweep_cells", f"{cells} combinations x codes; the limit "
                             f"is max_sweep_cells={lim.max_sweep_cells}", ["body"])
        fields: dict[str, list[str | int]] = {
            req.x.name: ["body", "x", "name"], req.y.name: ["body", "y", "name"],
            **param_fields(req.strategy.value), **bt_fields, "stat": ["body", "stat"]}

        def run() -> dict[str, Any]:
            out: dict[str, Any] = call(lambda: dash.sweep_payload(
                req.strategy.value, req.codes, req.x.name, req.x.values, req.y.name,
                req.y.values, req.stat, req.start, req.end, req.params, req.rules, store),
                fields)
            return out
        result: dict[str, Any] = await run_limited(run, lim.max_sweep_seconds,
                                                   "max_sweep_seconds")
        return json_response(result)

    @app.get("/api/index", tags=["index"], response_model=dict[str, Any])
    def index(code: IndexCode = "000688") -> Response:
        """The rebuilt index: level vs official, tracking, weights, next review."""
        out: dict[str, Any] = call(lambda: dash.index_payload(store, code),
                                   {"_default": ["query", "code"]})
        return json_response(out)

    @app.get("/api/breadth", tags=["breadth"], response_model=dict[str, Any])
    def breadth(
        universe: Annotated[str, Query(pattern=r"^(board|000688|(\d{6},){0,49}\d{6})$",
                                       description="'board', '000688' (rebuilt members) or "
                                                   "a comma-separated list of codes")
                            ] = "board",
        start: dt.date | None = None, end: dt.date | None = None,
        figures: bool = Query(False, description="Include the Plotly figures."),
    ) -> Response:
        """Daily breadth: advancers/decliners, A/D line, McClellan, limits, % above MAs."""
        if start and end and start > end:
            raise LimitError(422, "date_order", f"start {start} is after end {end}",
                             ["query", "start"])
        out: dict[str, Any] = call(
            lambda: dash.cached("breadth_payload", store, lambda: dash.breadth_payload(
                store, universe, start, end, figures), universe, str(start), str(end),
                figures),
            {"universe": ["query", "universe"], "start": ["query", "start"],
             "end": ["query", "end"], "_default": ["query"]})
        return json_response(out)

    @app.get("/api/census", tags=["board"])
    def census(as_of: dt.date | None = None) -> dict[str, Any]:
        """The board census as of a date (default: the company master's snapshot)."""
        out: dict[str, Any] = call(lambda: dash.census_payload(as_of, store),
                                   {"_default": ["query", "as_of"]})
        return out

    @app.get("/api/screen", tags=["board"])
    def screen(as_of: dt.date | None = None,
               codes: Annotated[str | None, Query(pattern=r"^(\d{6},){0,49}\d{6}$")] = None,
               limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> dict[str, Any]:
        """Valuation, lifecycle and R&D screens of listed companies (missing data says so)."""
        from kechuang.api import board

        def run() -> dict[str, Any]:
            d = as_of or dash.census_payload(None, store)["figures"][0]["as_of"]
            t = board.screens(d, db=store, codes=codes.split(",") if codes else None)
            return {"as_of": str(d)[:10], "rows": len(t), "columns": list(t.columns),
                    "table": dash.jsonable(t.head(limit))}
        out: dict[str, Any] = call(run, {"codes": ["query", "codes"],
                                         "_default": ["query", "as_of"]})
        return out

    @app.post("/api/listing/check", tags=["board"])
    def listing_check(req: ListingRequest) -> dict[str, Any]:
        """Standards 1-5, red-chip and WVR tests on a company's figures (CNY), as dated."""
        from kechuang.api import board

        figures = req.model_dump(exclude={"date"}, exclude_none=True)
        for k in ("net_profit", "net_profit_deducted"):
            if k in figures:
                figures[k] = list(figures[k])
        cols: dict[str, list[str | int]] = {k: ["body", k] for k in ListingRequest.model_fields}
        cols["_columns"] = list(cols)
        cols["_default"] = ["body"]
        out: dict[str, Any] = call(lambda: board.check_listing(figures, req.date).to_dict(),
                                   cols)
        return dash.jsonable(out)

    @app.get("/api/bonds", tags=["board"])
    def bonds(as_of: dt.date | None = None) -> dict[str, Any]:
        """Sci-tech bond statistics (issue level) and the reported aggregates."""
        from kechuang.api import board

        out: dict[str, Any] = call(lambda: {"sections": [
            s.to_dict() for s in board.bond_stats(as_of, db=store)]},
            {"_default": ["query", "as_of"]})
        return dash.jsonable(out)

    # ------------------------------------------------------------------ pages and assets
    for path, page in pages.PAGES.items():
        app.add_api_route(path, _page_handler(page), methods=["GET"],
                          response_class=HTMLResponse, include_in_schema=False)

    @app.get("/board-report", include_in_schema=False, response_class=HTMLResponse)
    def board_report() -> HTMLResponse:
        """The board report of the board area (as of the company master's snapshot)."""
        return HTMLResponse(call(lambda: dash.board_report_html(None, store), {}))

    @app.get("/static/plotly.min.js", include_in_schema=False)
    def plotly_js() -> Response:
        return Response(_plotly_js(), media_type="application/javascript",
                        headers={"Cache-Control": "max-age=86400"})

    @app.get("/static/app.js", include_in_schema=False)
    def app_js() -> Response:
        return Response((STATIC / "app.js").read_text(encoding="utf-8"),
                        media_type="application/javascript")

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        return Response(status_code=204)

    return app


def app_from_env() -> FastAPI:
    """The app over $KECHUANG_DB: the factory each uvicorn worker process calls."""
    return create_app(os.environ.get("KECHUANG_DB"))


def json_response(obj: Any) -> Response:
    """Strict JSON straight from plain Python data (the payloads are built JSON-safe), without
    FastAPI's generic encoder, which is slow on long chart series."""
    body = json.dumps(obj, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return Response(body.encode("utf-8"), media_type="application/json")


def _warm(store: Path) -> None:
    """Compile the backtest kernels (numba, first call) and cache the store-only results, so
    that the first requests answer as fast as later ones."""
    runs: list[Callable[[], Any]] = [
        lambda: dash.run_backtest("ma_cross", ["688981"], "2021-01-04", "2021-12-31", db=store),
        lambda: dash.run_backtest("grid", ["688981"], "2021-01-04", "2021-12-31", db=store),
        lambda: dash.run_backtest("dca", ["588000"], "2021-01-04", "2021-12-31", db=store),
        lambda: dash.overview(store), lambda: dash.index_payload(store)]
    for fn in runs:
        with contextlib.suppress(Exception):  # best effort; a request reports the error itself
            fn()


def _page_handler(page: pages.Page) -> Callable[[], HTMLResponse]:
    def handler() -> HTMLResponse:
        return HTMLResponse(pages.render(page))
    handler.__name__ = f"page_{page.key}"
    return handler


@lru_cache(maxsize=1)
def _plotly_js() -> bytes:
    from kechuang.reports.common import plotly_js

    return plotly_js().encode("utf-8")
