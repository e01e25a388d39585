"""Incremental, resumable, polite sync from online sources into the store.

`sync(dataset, since=...)` asks the store what it already holds, plans one unit of work per code
(or index) covering only what is missing, fetches units through the adapter and commits every
`batch_size` units as one ingest transaction (same checks as file ingest). A crash, a kill or a
ban therefore loses at most the batch in flight; re-running the same command resumes, because
the plan is recomputed from the store. Raw responses are cached on disk, so units fetched before
an interruption are not downloaded again.

Politeness: a request-rate limit, retries with exponential backoff and jitter on timeouts,
truncated payloads and HTTP 429/403, and a circuit breaker that stops after repeated bans and
says when to retry (remembered in the cache folder so an early re-run does not hammer the
source). Synced bars that disagree with the store's bars (the bundled data) or with the second
source beyond a tolerance are recorded in `bar_flags`, never silently overwritten.

Time and randomness come from an injected clock and random generator, so the backoff schedule
and the rate limit are testable without waiting."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import pickle
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from kechuang.core.errors import StarError
from kechuang.data.adapters import get_adapter, specs
from kechuang.data.adapters.base import (
    Adapter,
    BanError,
    Call,
    MissingLibraryError,
    Request,
    SchemaDriftError,
    SourceError,
    TransientError,
)
from kechuang.data.calendar import sessions
from kechuang.data.inputs import InputSpec
from kechuang.data.store import ensure_store, open_store


# -- configuration ------------------------------------------------------------------------------
@dataclass(frozen=True)
class SyncConfig:
    rate: float = 0.5  # requests per second (one every 2 s): polite by default
    max_retries: int = 4  # retries per unit after the first attempt
    backoff_base: float = 2.0  # seconds before the first retry
    backoff_factor: float = 2.0
    backoff_cap: float = 120.0
    jitter: float = 0.5  # each delay is stretched by a random 0..jitter share
    ban_threshold: int = 3  # consecutive refusals (429/403) before the breaker opens
    ban_cooldown: float = 1800.0  # seconds to wait after the breaker opens
    batch_size: int = 25  # units (codes) per transaction
    cache_max_age: float = 6 * 3600.0  # seconds a non-final raw response stays fresh
    price_tolerance: float = 0.002  # relative difference in a price before a bar is flagged
    volume_tolerance: float = 0.01  # relative difference in volume before a bar is flagged
    factor_tolerance: float = 0.001  # relative difference between two adjustment factors
    annual_only: bool = True  # financials: keep fiscal-year reports only

    def __post_init__(self) -> None:
        if self.rate <= 0:
            raise StarError(f"request rate must be > 0 per second (got {self.rate})")
        if self.batch_size < 1:
            raise StarError(f"batch size must be >= 1 (got {self.batch_size})")
        if self.max_retries < 0:
            raise StarError(f"retries must be >= 0 (got {self.max_retries})")


# -- time ---------------------------------------------------------------------------------------
class Clock(Protocol):
    def now(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def now(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


class RateLimiter:
    """At most `rate` requests per second: each request waits until 1/rate after the last."""

    def __init__(self, rate: float, clock: Clock) -> None:
        self.interval = 1.0 / rate
        self.clock = clock
        self.next_at: float | None = None

    def wait(self) -> float:
        """Block until a request may go; returns the seconds waited."""
        now = self.clock.now()
        waited = 0.0
        if self.next_at is not None and now < self.next_at:
            waited = self.next_at - now
            self.clock.sleep(waited)
            now = self.next_at
        self.next_at = now + self.interval
        return waited


def backoff_delay(attempt: int, cfg: SyncConfig, rng: random.Random) -> float:
    """Delay before retry number `attempt` (0 = first retry): base * factor**attempt, capped,
    then stretched by a random share in [0, jitter) so that clients do not retry in step."""
    d = min(cfg.backoff_cap, cfg.backoff_base * cfg.backoff_factor ** attempt)
    return d * (1.0 + cfg.jitter * rng.random())


class CircuitOpenError(SourceError):
    """The source refused us repeatedly; stop and retry later."""

    def __init__(self, message: str, retry_at: float) -> None:
        self.retry_at = retry_at
        super().__init__(message)


def _utc(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


class CircuitBreaker:
    """Counts consecutive refusals; at `threshold` it opens until now + cooldown. The open state
    is kept in `state_file` (if given) so a re-run before that time stops at once."""

    def __init__(self, library: str, cfg: SyncConfig, clock: Clock,
                 state_file: Path | None = None) -> None:
        self.library, self.cfg, self.clock, self.state_file = library, cfg, clock, state_file
        self.bans = 0

    def _load(self) -> dict[str, float]:
        if self.state_file and self.state_file.exists():
            try:
                data = json.loads(self.state_file.read_text())
                return {k: float(v) for k, v in data.items()}
            except (ValueError, OSError):
                return {}
        return {}

    def _save(self, retry_at: float | None) -> None:
        if not self.state_file:
            return
        data = self._load()
        if retry_at is None:
            data.pop(self.library, None)
        else:
            data[self.library] = retry_at
        self.state_file.parent.mkdir(parents=True, exist_ok=True)
        self.state_file.write_text(json.dumps(data))

    def check(self) -> None:
        retry_at = self._load().get(self.library)
        if retry_at is not None and self.clock.now() < retry_at:
            raise CircuitOpenError(
                f"{self.library} refused repeated requests earlier; not retrying before "
                f"{_utc(retry_at)} (use --force to try anyway)", retry_at)

    def reset(self) -> None:
        self._save(None)

    def success(self) -> None:
        self.bans = 0

    def ban(self, err: BaseException) -> None:
        self.bans += 1
        if self.bans >= self.cfg.ban_threshold:
            retry_at = self.clock.now() + self.cfg.ban_cooldown
            self._save(retry_at)
            raise CircuitOpenError(
                f"{self.library} refused {self.bans} requests in a row ({err}); stopped. "
                f"Retry after {_utc(retry_at)}: committed batches are kept and the same "
                "command resumes", retry_at)


# -- errors from library calls --------------------------------------------------------------------
def http_status(e: BaseException) -> int | None:
    resp = getattr(e, "response", None)
    status = getattr(resp, "status_code", None)
    if isinstance(status, int):
        return status
    code = getattr(e, "code", None) or getattr(e, "status", None)
    return code if isinstance(code, int) else None


TRANSIENT_NAMES = {"Timeout", "ReadTimeout", "ConnectTimeout", "ConnectionError",
                   "ChunkedEncodingError", "IncompleteRead", "RemoteDisconnected",
                   "ProtocolError", "JSONDecodeError", "ContentDecodingError", "SSLError"}


# How refusals look when the library swallows the HTTP status: the server drops the connection
# (AKShare issues #6260, #6364) or answers with a captcha/HTML page instead of JSON (#6217).
BAN_TEXT = ("RemoteDisconnected", "Connection aborted", "Connection reset",
            "Expecting value: line 1 column 1 (char 0)")


def classify(e: BaseException) -> str:
    """'ban', 'transient' or 'fatal'."""
    if isinstance(e, BanError):
        return "ban"
    if isinstance(e, SchemaDriftError | MissingLibraryError):
        return "fatal"
    status = http_status(e)
    if status in (403, 429):
        return "ban"
    if isinstance(e, ConnectionResetError | ConnectionAbortedError) or any(
            t in str(e) for t in BAN_TEXT):
        return "ban"
    if isinstance(e, TransientError | TimeoutError | ConnectionError):
        return "transient"
    if status is not None and status >= 500:
        return "transient"
    if any(c.__name__ in TRANSIENT_NAMES for c in type(e).__mro__):
        return "transient"
    return "fatal"


def describe(e: BaseException) -> str:
    status = http_status(e)
    text = str(e).splitlines()[0] if str(e) else type(e).__name__
    return f"HTTP {status}: {text}" if status else f"{type(e).__name__}: {text}"


# -- raw response cache ----------------------------------------------------------------------------
def default_cache_dir(store_path: Path) -> Path:
    env = os.environ.get("KECHUANG_SYNC_CACHE")
    return Path(env) if env else store_path.parent / ".kechuang-sync-cache"


class RawCache:
    """Raw library answers on disk, one pickle per (library, function, arguments). The files are
    written only by this process's own sync; delete the folder to force a full re-download."""

    def __init__(self, root: Path | None, max_age: float, clock: Clock) -> None:
        self.root, self.max_age, self.clock = root, max_age, clock

    def _path(self, library: str, req: Request) -> Path:
        assert self.root is not None
        key = json.dumps([req.function, req.kwargs], sort_keys=True, ensure_ascii=False)
        digest = hashlib.sha256(key.encode()).hexdigest()[:24]
        return self.root / library / req.function / f"{digest}.pkl"

    def get(self, library: str, req: Request) -> Any | None:
        if self.root is None:
            return None
        p = self._path(library, req)
        if not p.exists():
            return None
        try:
            with p.open("rb") as f:
                fetched_at, final, raw = pickle.load(f)
        except Exception:  # a torn or foreign file is a miss, never an error
            return None
        if not final and self.clock.now() - fetched_at > self.max_age:
            return None
        return raw

    def put(self, library: str, req: Request, raw: Any) -> None:
        if self.root is None:
            return
        p = self._path(library, req)
        p.parent.mkdir(parents=True, exist_ok=True)
        tmp = p.with_suffix(f".tmp{os.getpid()}")
        with tmp.open("wb") as f:
            pickle.dump((self.clock.now(), req.final, raw), f)
        tmp.replace(p)  # atomic: a killed sync never leaves a half-written entry


# -- fetching one unit ----------------------------------------------------------------------------
@dataclass
class Counts:
    units: int = 0
    requests: int = 0  # calls that went to the source
    cached: int = 0  # calls answered from the raw cache
    retries: int = 0
    waited: float = 0.0  # seconds spent in rate limiting and backoff
    rows_fetched: int = 0
    rows_written: int = 0
    rows_skipped: int = 0  # already in the store and agreeing
    flags: int = 0
    batches: int = 0


class Fetcher:
    """Runs an adapter's requests through cache, rate limit, retries and the breaker."""

    def __init__(self, adapter: Adapter, cfg: SyncConfig, clock: Clock, rng: random.Random,
                 cache: RawCache, breaker: CircuitBreaker, counts: Counts,
                 log: Callable[[str], None] | None = None) -> None:
        self.adapter, self.cfg, self.clock, self.rng = adapter, cfg, clock, rng
        self.cache, self.breaker, self.counts = cache, breaker, counts
        self.limiter = RateLimiter(cfg.rate, clock)
        self.log = log or (lambda _m: None)

    def _get(self, req: Request, fresh: list[tuple[Request, Any]]) -> Any:
        hit = self.cache.get(self.adapter.library, req)
        if hit is not None:
            self.counts.cached += 1
            return hit
        self.counts.waited += self.limiter.wait()
        self.counts.requests += 1
        raw = self.adapter.call(req.function, dict(req.kwargs))
        fresh.append((req, raw))
        return raw

    def fetch(self, dataset: str, key: str, start: dt.date, end: dt.date) -> pd.DataFrame:
        reqs = self.adapter.requests(dataset, key, start, end)
        attempt = 0
        while True:
            self.breaker.check()
            fresh: list[tuple[Request, Any]] = []
            try:
                raws = [self._get(r, fresh) for r in reqs]
                frame = self.adapter.normalize(dataset, key, raws, start, end)
            except CircuitOpenError:
                raise
            except Exception as e:
                kind = classify(e)
                if kind == "fatal":
                    if isinstance(e, StarError):
                        raise
                    raise SourceError(f"{self.adapter.library} {reqs[0].function} for "
                                      f"{key or dataset}: {describe(e)}") from e
                if kind == "ban":
                    self.breaker.ban(e)  # raises once the threshold is reached
                if attempt >= self.cfg.max_retries:
                    raise SourceError(f"{self.adapter.library} {reqs[0].function} for "
                                      f"{key or dataset}: gave up after {attempt + 1} attempts"
                                      f" ({describe(e)})") from e
                delay = backoff_delay(attempt, self.cfg, self.rng)
                self.log(f"{key or dataset}: {describe(e)}; retry in {delay:.1f} s")
                self.counts.retries += 1
                self.counts.waited += delay
                self.clock.sleep(delay)
                attempt += 1
                continue
            for req, raw in fresh:  # cache only answers that normalised cleanly
                self.cache.put(self.adapter.library, req, raw)
            self.breaker.success()
            return frame


# -- datasets ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class DatasetDef:
    name: str
    library: str
    adapter_dataset: str
    series: str = ""  # bars: the bars_daily.source value the rows go to
    help: str = ""


DATASETS: dict[str, DatasetDef] = {d.name: d for d in [
    DatasetDef("securities", "akshare", "securities", help="STAR security list (new codes)"),
    DatasetDef("bars", "akshare", "bars", "raw", "unadjusted daily bars with pre-close"),
    DatasetDef("bars-baostock", "baostock", "bars", "baostock",
               "second-source unadjusted bars (baostock)"),
    DatasetDef("adjustments", "akshare", "adjustments", help="adjustment factors at ex-dates"),
    DatasetDef("adjustments-baostock", "baostock", "adjustments",
               help="second-source adjustment factors (fill gaps, flag disagreements)"),
    DatasetDef("shares", "akshare", "shares", help="share capital changes"),
    DatasetDef("financials", "akshare", "financials",
               help="revenue, net profit (+deducted), R&D expense, cash flows"),
    DatasetDef("index-levels", "akshare", "index-levels",
               help="STAR 50/100/200/Composite closes (CSIndex)"),
    DatasetDef("index-weights", "akshare", "index-weights",
               help="constituent weights of the STAR indices (CSIndex)"),
]}
SECOND_SOURCE = {"raw": "baostock", "baostock": "raw"}


@dataclass(frozen=True)
class Unit:
    key: str
    start: dt.date
    end: dt.date


@dataclass
class SyncReport:
    dataset: str
    store: Path
    since: dt.date
    until: dt.date
    planned: int = 0
    counts: Counts = field(default_factory=Counts)
    complete: bool = False
    stopped: str = ""  # why the sync stopped early (ban); empty when complete
    elapsed: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        c = self.counts
        return {"dataset": self.dataset, "store": str(self.store), "since": str(self.since),
                "until": str(self.until), "units_planned": self.planned, "units_done": c.units,
                "requests": c.requests, "cached": c.cached, "retries": c.retries,
                "rows_fetched": c.rows_fetched, "rows_written": c.rows_written,
                "rows_skipped": c.rows_skipped, "flags": c.flags, "batches": c.batches,
                "complete": self.complete, "stopped": self.stopped,
                "seconds": round(self.elapsed, 2)}


Progress = Callable[[str, int, int, "Counts"], None]  # (current key, done, total, counts)


def _last_session(until: dt.date) -> dt.date:
    s = sessions(until - dt.timedelta(days=40), until)
    if len(s) == 0:
        raise StarError(f"no XSHG session in the 40 days before {until}")
    return dt.date.fromisoformat(str(s[-1]))


def _universe(store: Any, since: dt.date, codes: Sequence[str] | None) -> list[str]:
    known = store.query("SELECT code, list_date, delist_date FROM securities ORDER BY code")
    if codes:
        missing = sorted(set(codes) - set(known["code"]))
        if missing:
            from kechuang.core.errors import UnknownCodeError

            raise UnknownCodeError(f"{', '.join(missing[:5])} not in the store's securities; "
                                   "run `kechuang sync securities` first")
        return sorted(set(codes))
    live = known[known["delist_date"].isna() | (pd.to_datetime(known["delist_date"]).dt.date
                                                >= since)]
    return [str(c) for c in live["code"]]


def _by_key(store: Any, sql: str) -> dict[str, dt.date]:
    df = store.query(sql)
    return {str(k): v.date() if hasattr(v, "date") else v for k, v in zip(df.iloc[:, 0],
                                                                          df.iloc[:, 1],
                                                                          strict=True)
            if v is not None and not pd.isna(v)}


def plan(d: DatasetDef, store: Any, since: dt.date, until: dt.date,
         codes: Sequence[str] | None = None, indices: Sequence[str] | None = None
         ) -> list[Unit]:
    """The units the store lacks. Bars and index levels restart at the last stored date (one
    overlapping session, which cross-checks continuity); other datasets are fetched per code
    and filtered to the rows the store lacks when written."""
    from kechuang.data.adapters.akshare import STAR_INDICES

    if d.adapter_dataset == "securities":
        return [Unit("", since, until)]
    if d.adapter_dataset in ("index-levels", "index-weights"):
        idx = list(indices or STAR_INDICES)
        if d.adapter_dataset == "index-weights":
            return [Unit(i, since, until) for i in idx]
        last = _by_key(store, "SELECT index_code, max(date) FROM index_levels GROUP BY 1")
        top = _last_session(until)
        out = []
        for i in idx:
            lo = max(since, last[i]) if i in last else since
            if i in last and last[i] >= top:
                continue
            out.append(Unit(i, lo, until))
        return out
    universe = _universe(store, since, codes)
    if d.adapter_dataset == "bars":
        last = _by_key(store, f"SELECT code, max(date) FROM bars_daily WHERE source = "
                              f"'{d.series}' GROUP BY 1")
        listed = _by_key(store, "SELECT code, list_date FROM securities")
        top = _last_session(until)
        out = []
        for c in universe:
            if c in last and last[c] >= top:
                continue
            lo = max(since, last[c]) if c in last else max(since, listed.get(c, since))
            if lo <= until:
                out.append(Unit(c, lo, until))
        return out
    if d.adapter_dataset == "shares":
        # Share capital continues from the last stored count (even before --since), so the
        # history has no gap in which an old count would be carried forward.
        last = _by_key(store, "SELECT code, max(date) FROM shares GROUP BY 1")
        return [Unit(c, last[c] + dt.timedelta(days=1) if c in last else since, until)
                for c in universe if c not in last or last[c] < until]
    if d.adapter_dataset == "financials":
        # Annual reports are due by April 30 of the next year.
        due_year = until.year - 1 if until >= dt.date(until.year, 5, 1) else until.year - 2
        due = dt.date(due_year, 12, 31)
        last = _by_key(store, "SELECT code, max(period_end) FROM financials GROUP BY 1")
        return [Unit(c, since, until) for c in universe if c not in last or last[c] < due]
    return [Unit(c, since, until) for c in universe]


# -- writing a batch --------------------------------------------------------------------------
def _spec_for(d: DatasetDef, library: str) -> InputSpec:
    src = library
    return {
        "securities": lambda: specs.securities_spec(src),
        "bars": lambda: specs.sync_bars_spec(d.series),
        "adjustments": lambda: specs.adjustments_spec(src),
        "shares": lambda: specs.shares_spec(src),
        "financials": lambda: specs.financials_spec(src),
        "index-levels": lambda: specs.index_levels_spec(src),
        "index-weights": lambda: specs.index_weights_spec(f"{library}:"
                                                          "index_stock_cons_weight_csindex"),
    }[d.adapter_dataset]()


def _rel(a: pd.Series, b: pd.Series) -> pd.Series:
    return (a - b).abs() / b.abs().where(b.abs() > 0, 1.0)


def _store_frame(store: Any, frame: pd.DataFrame, sql: str) -> pd.DataFrame:
    store.con.register("_sync_keys", frame)
    try:
        return store.query(sql)
    finally:
        store.con.unregister("_sync_keys")


def compare_bars(new: pd.DataFrame, old: pd.DataFrame, cfg: SyncConfig) -> pd.DataFrame:
    """Rows of `new` (code, date, OHLC, volume) that disagree with `old` on the same key beyond
    the tolerances, with the worst relative difference and a description."""
    m = new.merge(old, on=["code", "date"], suffixes=("", "_old"))
    if m.empty:
        return m.assign(value=pd.Series(dtype=float), what=pd.Series(dtype=object))
    parts = []
    for c in ("open", "high", "low", "close"):
        parts.append(_rel(m[c], m[f"{c}_old"]).rename(c))
    price = pd.concat(parts, axis=1)
    vol = _rel(m["volume"], m["volume_old"]).fillna(0.0)
    bad = (price.max(axis=1) > cfg.price_tolerance) | (vol > cfg.volume_tolerance)
    m = m[bad].copy()
    price, vol = price[bad], vol[bad]
    m["value"] = (m["close"] / m["close_old"]).astype(float)
    m["what"] = [
        ", ".join([f"{c} {r[c]:g} vs {r[f'{c}_old']:g}" for c in ("open", "high", "low", "close")
                   if pr[c] > cfg.price_tolerance]
                  + ([f"volume {r['volume']:g} vs {r['volume_old']:g}"] if v > cfg.volume_tolerance
                     else []))
        for (_, r), (_, pr), v in zip(m.iterrows(), price.iterrows(), vol, strict=True)]
    return m


def _flags(rows: pd.DataFrame, source: str, kind: str, detail: Callable[[Any], str]
           ) -> pd.DataFrame:
    return pd.DataFrame({"code": rows["code"].astype(str), "date": rows["date"],
                         "source": source, "kind": kind, "value": rows["value"].astype(float),
                         "detail": [detail(r) for _, r in rows.iterrows()]})


# the library function behind each bar series, for flag details and `origin`
DATASETS_FUNCTION = {("akshare", "bars"): "stock_zh_a_hist",
                     ("baostock", "bars"): "query_history_k_data_plus"}


def prepare_batch(d: DatasetDef, library: str, frame: pd.DataFrame, store: Any,
                  cfg: SyncConfig) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """Split a fetched batch into rows to write, flags to record, and the count of rows the
    store already holds (skipped). The store is never overwritten with a disagreeing value."""
    no_flags = pd.DataFrame(columns=list(specs.FLAGS_SPEC.required))
    if frame.empty:
        return frame, no_flags, 0
    kind = d.adapter_dataset
    if kind == "bars":
        fn = DATASETS_FUNCTION.get((library, "bars"), library)
        stored = _store_frame(store, frame[["code", "date"]], (
            f"SELECT b.code, b.date, b.open, b.high, b.low, b.close, b.volume, b.source, "
            f"b.origin FROM bars_daily b JOIN _sync_keys k ON b.code = k.code AND "
            f"b.date = k.date WHERE b.source IN ('{d.series}', "
            f"'{SECOND_SOURCE.get(d.series, d.series)}')"))
        stored["date"] = pd.to_datetime(stored["date"]).dt.date
        same = stored[stored["source"] == d.series].drop(columns=["source"])
        other = stored[stored["source"] != d.series].drop(columns=["source"])
        have = set(zip(same["code"], same["date"], strict=True))
        mask = [(c, x) not in have for c, x in zip(frame["code"], frame["date"], strict=True)]
        new = frame[mask]
        flags = []
        bad = compare_bars(frame, same.drop(columns=["origin"]), cfg)
        if not bad.empty:
            flags.append(_flags(bad, d.series, "source_mismatch", lambda r: (
                f"{library} {fn}: {r['what']}; kept the stored bar")))
        bad2 = compare_bars(new, other.drop(columns=["origin"]), cfg)
        if not bad2.empty:
            other_src = SECOND_SOURCE.get(d.series, d.series)
            flags.append(_flags(bad2, "raw", "second_source_mismatch", lambda r: (
                f"{d.series if d.series != 'raw' else library} vs "
                f"{other_src if other_src != 'raw' else 'raw'}: {r['what']}")))
        out = new.assign(src=f"{library}:{fn}")
        fl = pd.concat(flags, ignore_index=True) if flags else no_flags
        return out, fl, len(frame) - len(new)
    if kind == "adjustments":
        stored = _store_frame(store, frame[["code", "ex_date"]], (
            "SELECT a.code, a.ex_date, a.factor, a.method FROM adjustments a JOIN _sync_keys k "
            "ON a.code = k.code AND a.ex_date = k.ex_date WHERE a.factor IS NOT NULL AND "
            "a.method <> 'estimated'"))
        stored["ex_date"] = pd.to_datetime(stored["ex_date"]).dt.date
        m = frame.merge(stored, on=["code", "ex_date"], how="left", suffixes=("", "_old"))
        known = m["factor_old"].notna()
        bad = m[known & (_rel(m["factor"], m["factor_old"]) > cfg.factor_tolerance)]
        fl = no_flags
        if not bad.empty:
            bad = bad.rename(columns={"ex_date": "date"}).assign(
                value=(bad["factor"] / bad["factor_old"]).to_numpy())
            fl = _flags(bad, "raw", "factor_mismatch", lambda r: (
                f"{library} factor {r['factor']:.6g} vs stored {r['factor_old']:.6g} "
                f"({r['method']}); kept the stored factor"))
        return frame[~known.to_numpy()], fl, int(known.sum())
    keys = {"securities": ("securities", ["code"]), "shares": ("shares", ["code", "date"]),
            "financials": ("financials", ["code", "period_end"]),
            "index-levels": ("index_levels", ["index_code", "date"]),
            "index-weights": ("index_weights_reported", ["index_code", "reported_on"])}
    table, key = keys[kind]
    if kind == "financials" and cfg.annual_only:
        frame = frame[[p.month == 12 and p.day == 31 for p in frame["period_end"]]]
    if frame.empty:
        return frame, no_flags, 0
    cond = " AND ".join(f"s.{k} = k.{k}" for k in key)
    stored = _store_frame(store, frame[key].drop_duplicates(),
                          f"SELECT DISTINCT {', '.join('s.' + k for k in key)} FROM {table} s "
                          f"JOIN _sync_keys k ON {cond}")
    for k in key:
        if k != "code" and k != "index_code":
            stored[k] = pd.to_datetime(stored[k]).dt.date
    have = set(map(tuple, stored[key].astype(object).to_numpy().tolist()))
    mask = [tuple(r) not in have for r in frame[key].astype(object).to_numpy().tolist()]
    return frame[mask], no_flags, len(frame) - sum(mask)


def _commit(d: DatasetDef, library: str, rows: pd.DataFrame, flags: pd.DataFrame,
            label: str, store_path: Path) -> int:
    from kechuang.data.ingest import Item, run

    items = []
    if not rows.empty:
        spec = _spec_for(d, library)
        cols = [c for c in rows.columns if c in spec.all_columns]
        items.append(Item(f"sync {d.name} {label}", Path(f"<sync {d.name} {label}>"), spec,
                          f"{library} via kechuang sync", None,
                          f"synced from {library} by `kechuang sync {d.name}`",
                          rows[cols].reset_index(drop=True)))
    if not flags.empty:
        items.append(Item(f"sync {d.name} flags {label}", Path(f"<sync flags {label}>"),
                          specs.FLAGS_SPEC, f"{library} cross-check", None,
                          "disagreements found by kechuang sync", flags.reset_index(drop=True)))
    if items:
        run(items, store_path)
    return len(items)


# -- the sync -------------------------------------------------------------------------------
def sync(dataset: str, *, since: dt.date | str, until: dt.date | str | None = None,
         codes: Sequence[str] | None = None, indices: Sequence[str] | None = None,
         store_path: str | Path | None = None, call: Call | None = None,
         config: SyncConfig | None = None, clock: Clock | None = None,
         rng: random.Random | None = None, cache_dir: Path | bool | None = None,
         force: bool = False, progress: Progress | None = None,
         log: Callable[[str], None] | None = None,
         on_commit: Callable[[int], None] | None = None) -> SyncReport:
    """Fetch what the store lacks of `dataset` from `since` to `until` (default today) and
    commit it batch by batch. `call` replaces the library call (tests inject recorded frames);
    `cache_dir=False` disables the raw cache."""
    from kechuang.core.dates import parse_date

    if dataset not in DATASETS:
        raise StarError(f"unknown dataset {dataset!r}; expected one of {', '.join(DATASETS)}")
    d = DATASETS[dataset]
    cfg = config or SyncConfig()
    clk = clock or SystemClock()
    lo = parse_date(since)
    hi = parse_date(until) if until is not None else dt.date.today()
    if lo > hi:
        from kechuang.core.errors import DateRangeError

        raise DateRangeError(f"--since {lo} is after the end date {hi}")
    bad = [i for i in indices or () if not (len(i) == 6 and i.isdigit())]
    if bad:
        raise StarError(f"index code {bad[0]!r} is not 6 digits (e.g. 000688)")
    path = ensure_store(store_path)
    report = SyncReport(dataset, path, lo, hi)
    t0 = time.perf_counter()
    adapter = get_adapter(d.library, call)
    root = None if cache_dir is False else (
        Path(cache_dir) if isinstance(cache_dir, str | Path) else default_cache_dir(path))
    site = adapter.info(d.adapter_dataset).site or d.library
    breaker = CircuitBreaker(f"{d.library} ({site})", cfg, clk,
                             root / "breaker.json" if root else None)
    if force:
        breaker.reset()
    breaker.check()
    fetcher = Fetcher(adapter, cfg, clk, rng or random.Random(), RawCache(root, cfg.cache_max_age,
                                                                          clk),
                      breaker, report.counts, log)
    with open_store(path) as st:
        units = plan(d, st, lo, hi, codes, indices)
    report.planned = len(units)
    c = report.counts
    pending: list[pd.DataFrame] = []
    pending_keys: list[str] = []

    def flush() -> None:
        if not pending_keys:
            return
        frames = [f for f in pending if not f.empty]
        frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
        label = (f"{pending_keys[0]}..{pending_keys[-1]} {lo}..{hi}" if pending_keys[0] else
                 f"{lo}..{hi}")
        if not frame.empty:
            with open_store(path) as st:
                rows, flags, skipped = prepare_batch(d, d.library, frame, st, cfg)
            _commit(d, d.library, rows, flags, label, path)
            c.rows_written += len(rows)
            c.rows_skipped += skipped
            c.flags += len(flags)
        c.batches += 1
        c.units += len(pending_keys)
        pending.clear()
        pending_keys.clear()
        if on_commit:
            on_commit(c.batches)

    try:
        for i, u in enumerate(units):
            if progress:
                progress(u.key or dataset, c.units + len(pending_keys), len(units), c)
            frame = fetcher.fetch(d.adapter_dataset, u.key, u.start, u.end)
            if frame.empty and not adapter.info(d.adapter_dataset).empty_ok:
                raise SourceError(f"{d.library} returned no rows for {d.name}"
                                  f"{' ' + u.key if u.key else ''}: the source may be down or "
                                  "its format changed")
            c.rows_fetched += len(frame)
            pending.append(frame)
            pending_keys.append(u.key)
            if len(pending_keys) >= cfg.batch_size or i == len(units) - 1:
                flush()
    except CircuitOpenError as e:
        flush()  # whole units fetched before the ban are kept
        report.stopped = str(e)
        report.elapsed = time.perf_counter() - t0
        raise CircuitOpenError(f"{e} ({c.units} of {len(units)} units committed)",
                               e.retry_at) from None
    except (StarError, KeyboardInterrupt):
        flush()  # any other stop: keep the whole units already fetched, then report it
        raise
    if progress:
        progress("done", c.units, len(units), c)
    report.complete = True
    report.elapsed = time.perf_counter() - t0
    return report


# -- verify ---------------------------------------------------------------------------------
def verify(store_path: str | Path | None = None, config: SyncConfig | None = None,
           codes: Sequence[str] | None = None, limit: int = 20) -> dict[str, Any]:
    """Compare the primary bars ('raw') with the second source ('baostock') wherever both
    exist, record disagreements in `bar_flags` (kind 'second_source_mismatch'), and report all
    sync flags."""
    cfg = config or SyncConfig()
    path = ensure_store(store_path)
    where = ""
    if codes:
        where = " AND r.code IN (" + ", ".join(f"'{c}'" for c in codes) + ")"
    with open_store(path) as st:
        pairs = st.query(
            "SELECT r.code, r.date, r.open, r.high, r.low, r.close, r.volume, b.open AS "
            "open_old, b.high AS high_old, b.low AS low_old, b.close AS close_old, b.volume AS "
            "volume_old FROM bars_daily r JOIN bars_daily b ON r.code = b.code AND "
            f"r.date = b.date AND b.source = 'baostock' WHERE r.source = 'raw'{where}")
    n_pairs = len(pairs)
    flags = pd.DataFrame(columns=list(specs.FLAGS_SPEC.required))
    if n_pairs:
        pairs["date"] = pd.to_datetime(pairs["date"]).dt.date
        new = pairs[["code", "date", "open", "high", "low", "close", "volume"]]
        old = pairs[["code", "date", "open_old", "high_old", "low_old", "close_old",
                     "volume_old"]].rename(columns=lambda c: c.removesuffix("_old"))
        bad = compare_bars(new, old, cfg)
        if not bad.empty:
            flags = _flags(bad, "raw", "second_source_mismatch",
                           lambda r: f"raw vs baostock: {r['what']}")
            from kechuang.data.ingest import Item, run

            run([Item("verify raw vs baostock", Path("<verify>"), specs.FLAGS_SPEC,
                      "kechuang sync --verify", None, "raw bars vs baostock", flags)], path)
    kinds = ", ".join(f"'{k}'" for k in specs.FLAG_KINDS)
    with open_store(path) as st:
        summary = st.query(f"SELECT kind, count(*) AS n, count(DISTINCT code) AS codes FROM "
                           f"bar_flags WHERE kind IN ({kinds}) GROUP BY 1 ORDER BY 1")
        sample = st.query(f"SELECT code, date::VARCHAR AS date, source, kind, value, detail "
                          f"FROM bar_flags WHERE kind IN ({kinds}) ORDER BY date DESC, code "
                          f"LIMIT {int(limit)}")
    return {"store": str(path), "pairs_compared": n_pairs, "new_disagreements": len(flags),
            "by_kind": summary.to_dict("records"), "sample": sample.to_dict("records")}
