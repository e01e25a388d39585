"""The adapter interface: one online source, a few datasets, frames in our schema out.

An adapter never talks to the network itself. It asks a `Call` (library function name + keyword
arguments -> the library's raw frame) for each vendor request, checks that the raw frame has the
columns it was written against, and maps it to kechuang's column names, units and types. The
sync wraps the real library call with rate limiting, retries, a circuit breaker and a raw cache;
tests pass recorded-format frames through an injected `Call`. Vendor column names and dtypes
never leave this package."""

from __future__ import annotations

import datetime as dt
import importlib
import importlib.metadata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pandas as pd

from kechuang.core.errors import StarError

# (library function name, keyword arguments) -> the library's raw return value (a DataFrame)
Call = Callable[[str, dict[str, Any]], Any]

EXTRAS = {"akshare": "akshare", "baostock": "baostock"}


class SourceError(StarError):
    """An online source failed in a way the user should know about."""

    exit_code = 5


class MissingLibraryError(SourceError):
    """The optional library behind an adapter is not installed."""


class SchemaDriftError(SourceError):
    """The library returned a frame without a column the adapter was written against."""


class TransientError(SourceError):
    """A failure worth retrying: timeout, connection reset, truncated payload, HTTP 5xx."""


class BanError(SourceError):
    """The source refused us (HTTP 429/403, captcha page): back off, then stop if it persists."""

    def __init__(self, message: str, status: int | None = None) -> None:
        self.status = status
        super().__init__(message)


def require(library: str) -> Any:
    """Import an optional source library or raise one line saying how to install it."""
    try:
        return importlib.import_module(library)
    except ImportError:
        extra = EXTRAS.get(library, library)
        raise MissingLibraryError(
            f"{library} is not installed; install it with: pip install 'kechuang[{extra}]'"
        ) from None


def library_version(library: str) -> str | None:
    try:
        return importlib.metadata.version(library)
    except importlib.metadata.PackageNotFoundError:
        return None


@dataclass(frozen=True)
class Request:
    """One vendor call: what to call and what it is for (for the progress line and the cache)."""

    dataset: str
    key: str  # the code or index code this call is for ('' for whole-market calls)
    function: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    # A call whose answer cannot change any more (its range ended before today) may be cached
    # forever; others only for the cache's max age.
    final: bool = False


@dataclass(frozen=True)
class DatasetInfo:
    name: str  # our dataset name, e.g. 'bars'
    table: str  # the store table it fills
    functions: tuple[str, ...]  # library functions it calls
    keyed_by: str  # 'code', 'index' or 'none'
    empty_ok: bool = True  # an empty answer means "nothing new" rather than a broken source
    site: str = ""  # the server behind the function: bans are per site, not per library


def expect_columns(frame: Any, columns: Sequence[str], *, library: str, version: str | None,
                   function: str, written_for: str) -> pd.DataFrame:
    """The raw frame must be a DataFrame holding every column we read; otherwise one line naming
    the missing column, the installed library version and the version this adapter was written
    against."""
    if not isinstance(frame, pd.DataFrame):
        raise TransientError(f"{library} {version or '?'} {function}: returned "
                             f"{type(frame).__name__}, not a table (truncated or error payload)")
    present = [str(c) for c in frame.columns]
    for col in columns:
        if col not in present:
            raise SchemaDriftError(
                f"{library} {version or '?'} {function}: column {col!r} is missing (got "
                f"{', '.join(present[:12]) or 'no columns'}); the adapter was written for "
                f"{library} {written_for}: pin that version or update kechuang")
    return frame


def blank(frame: Any) -> bool:
    """The library answered with an empty table that has no columns at all: nothing in the
    range (vendors do this instead of an empty table with headers), not schema drift."""
    return isinstance(frame, pd.DataFrame) and frame.empty and len(frame.columns) == 0


def as_date(values: Any) -> pd.Series:
    """Vendor dates (date objects, 'YYYY-MM-DD', 'YYYYMMDD', Timestamps) -> datetime.date."""
    s = pd.Series(values)
    if s.empty:
        return s.astype(object)
    text = s.astype(str).str.slice(0, 10).str.replace("-", "", regex=False)
    return pd.to_datetime(text, format="%Y%m%d", errors="coerce").dt.date


def as_float(values: Any) -> pd.Series:
    """Vendor numbers (floats, numeric strings, '' for missing) -> float64 with NaN."""
    s = pd.Series(values)
    if s.dtype == object:
        s = s.replace({"": None, "--": None, "None": None})
    return pd.to_numeric(s, errors="coerce").astype("float64")


def check_complete(frame: pd.DataFrame, columns: Sequence[str], *, library: str,
                   function: str) -> None:
    """A row with a missing required value (e.g. a kline line cut off mid-way) means the payload
    was truncated: retry rather than store half a row."""
    if frame.empty:
        return
    bad = frame[list(columns)].isna().any(axis=1)
    if bad.any():
        row = int(bad.to_numpy().nonzero()[0][0])
        col = next(c for c in columns if pd.isna(frame[c].iloc[row]))
        raise TransientError(f"{library} {function}: truncated payload (row {row + 1} has no "
                             f"{col!r})")


class Adapter:
    """One online source. Subclasses define `library`, `written_for`, `datasets`, and for each
    dataset a `requests_<name>` planner and a `normalize_<name>` mapper."""

    library: str = ""
    written_for: str = ""  # the library version the adapter and its fixtures were taken from
    datasets: ClassVar[Mapping[str, DatasetInfo]] = {}

    def __init__(self, call: Call | None = None, version: str | None = None) -> None:
        self._call = call
        self.version = version or library_version(self.library)

    # -- the vendor call -------------------------------------------------------------------
    def default_call(self) -> Call:
        module = require(self.library)

        def call(function: str, kwargs: dict[str, Any]) -> Any:
            return getattr(module, function)(**kwargs)

        return call

    @property
    def call(self) -> Call:
        if self._call is None:
            self._call = self.default_call()
        return self._call

    def info(self, dataset: str) -> DatasetInfo:
        if dataset not in self.datasets:
            raise StarError(f"{self.library} has no dataset {dataset!r}; it offers "
                            f"{', '.join(self.datasets)}")
        return self.datasets[dataset]

    # -- planning and fetching -------------------------------------------------------------
    def requests(self, dataset: str, key: str, start: dt.date, end: dt.date) -> list[Request]:
        self.info(dataset)
        return list(getattr(self, f"requests_{dataset.replace('-', '_')}")(key, start, end))

    def normalize(self, dataset: str, key: str, raws: list[Any], start: dt.date,
                  end: dt.date) -> pd.DataFrame:
        """Raw frames of `requests(...)` (same order) -> one frame in our schema."""
        if all(isinstance(r, pd.DataFrame) and r.empty and len(r.columns) == 0 for r in raws):
            return pd.DataFrame()  # the libraries' "nothing found" answer: no rows, no columns
        fn = getattr(self, f"normalize_{dataset.replace('-', '_')}")
        out: pd.DataFrame = fn(key, raws, start, end)
        return out.reset_index(drop=True)

    def fetch(self, dataset: str, key: str, start: dt.date, end: dt.date) -> pd.DataFrame:
        """Fetch one dataset for one key (code, index code, or '' for whole-market datasets)
        between `start` and `end` inclusive, in our schema."""
        reqs = self.requests(dataset, key, start, end)
        raws = [self.call(r.function, dict(r.kwargs)) for r in reqs]
        return self.normalize(dataset, key, raws, start, end)

    def expect(self, frame: Any, function: str, columns: Sequence[str]) -> pd.DataFrame:
        return expect_columns(frame, columns, library=self.library, version=self.version,
                              function=function, written_for=self.written_for)


def ymd(d: dt.date) -> str:
    return d.strftime("%Y%m%d")


def empty(columns: Sequence[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
