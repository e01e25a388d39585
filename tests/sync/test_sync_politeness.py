"""Backoff schedule, rate limit and circuit breaker on a fake clock; retries and error
classification through the Fetcher with an injected call."""

from __future__ import annotations

import datetime as dt
import json
import random
import shutil
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from kechuang.core.errors import StarError
from kechuang.data import sync as sy
from kechuang.data.adapters import get_adapter
from kechuang.data.adapters.base import SchemaDriftError, SourceError

sys.path.insert(0, str(Path(__file__).parent))
from sync_vendor import load_fixture

D0, D1 = dt.date(2025, 5, 16), dt.date(2025, 5, 23)


class FakeClock:
    def __init__(self, t: float = 1_750_000_000.0) -> None:
        self.t = t
        self.sleeps: list[float] = []

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += seconds


class HTTPError(Exception):
    """Shaped like requests.HTTPError: the status is on .response.status_code."""

    def __init__(self, status: int) -> None:
        self.response = type("R", (), {"status_code": status})()
        super().__init__(f"{status} Client Error")


class ReadTimeout(OSError):  # named like requests.exceptions.ReadTimeout
    pass


def scripted(outcomes: list[Any]):
    """A call that plays `outcomes` in order (exceptions are raised), then the fixture."""
    _, good = load_fixture("akshare_stock_zh_a_hist")
    calls: list[str] = []

    def call(function: str, kwargs: dict[str, Any]) -> Any:
        calls.append(function)
        if outcomes:
            o = outcomes.pop(0)
            if isinstance(o, BaseException):
                raise o
            return o
        return good.copy()

    return call, calls


def make_fetcher(call: Any, clock: FakeClock, cfg: sy.SyncConfig, tmp: Path | None = None,
                 seed: int = 7) -> tuple[sy.Fetcher, sy.Counts]:
    counts = sy.Counts()
    ad = get_adapter("akshare", call)
    breaker = sy.CircuitBreaker("akshare", cfg, clock, tmp / "breaker.json" if tmp else None)
    cache = sy.RawCache(tmp / "cache" if tmp else None, cfg.cache_max_age, clock)
    return sy.Fetcher(ad, cfg, clock, random.Random(seed), cache, breaker, counts), counts


def test_backoff_schedule_exponential_capped_with_jitter() -> None:
    cfg = sy.SyncConfig(backoff_base=2, backoff_factor=2, backoff_cap=30, jitter=0.0)
    rng = random.Random(1)
    assert [sy.backoff_delay(a, cfg, rng) for a in range(7)] == [2, 4, 8, 16, 30, 30, 30]
    cfg = sy.SyncConfig(backoff_base=2, backoff_factor=2, backoff_cap=30, jitter=0.5)
    rng, ref = random.Random(42), random.Random(42)
    got = [sy.backoff_delay(a, cfg, rng) for a in range(6)]
    want = [b * (1 + 0.5 * ref.random()) for b in (2, 4, 8, 16, 30, 30)]
    assert got == pytest.approx(want)
    assert all(b <= g < 1.5 * b for g, b in zip(got, (2, 4, 8, 16, 30, 30), strict=True))
    # jitter spreads clients apart: two seeds never give the same schedule
    other = [sy.backoff_delay(a, cfg, random.Random(43)) for a in range(6)]
    assert other != got


def test_rate_limit_spaces_requests_on_a_fake_clock() -> None:
    clock = FakeClock()
    lim = sy.RateLimiter(2.0, clock)  # 2 per second
    t0 = clock.now()
    starts = []
    for _ in range(5):
        lim.wait()
        starts.append(clock.now() - t0)
    assert starts == pytest.approx([0, 0.5, 1.0, 1.5, 2.0])
    clock.t += 10  # idle: the next request goes at once
    assert lim.wait() == 0.0
    lim.wait()
    assert clock.sleeps[-1] == pytest.approx(0.5)


def test_fetcher_retries_timeouts_with_the_backoff_schedule() -> None:
    cfg = sy.SyncConfig(rate=4, backoff_base=1, backoff_factor=3, jitter=0.25, max_retries=4)
    call, calls = scripted([ReadTimeout("read timed out"), TimeoutError("timed out"),
                            HTTPError(502)])
    clock = FakeClock()
    f, counts = make_fetcher(call, clock, cfg, seed=3)
    out = f.fetch("bars", "688981", D0, D1)
    assert len(out) == 6 and len(calls) == 4 and counts.retries == 3
    ref = random.Random(3)
    backoffs = [b * (1 + 0.25 * ref.random()) for b in (1, 3, 9)]
    # the rate limiter never had to wait: every backoff is longer than 1/rate
    assert clock.sleeps == pytest.approx(backoffs)


def test_429_and_403_are_retried_then_the_breaker_opens(tmp_path: Path) -> None:
    cfg = sy.SyncConfig(rate=10, ban_threshold=3, ban_cooldown=600, max_retries=10)
    call, calls = scripted([HTTPError(429), HTTPError(403)])
    clock = FakeClock()
    f, counts = make_fetcher(call, clock, cfg, tmp_path)
    assert len(f.fetch("bars", "688981", D0, D1)) == 6  # two refusals, then served
    assert counts.retries == 2 and f.breaker.bans == 0  # success resets the count

    shutil.rmtree(tmp_path / "cache")  # so the next fetch goes to the source again
    call, calls = scripted([HTTPError(429), HTTPError(403), HTTPError(429), HTTPError(429)])
    f, counts = make_fetcher(call, clock, cfg, tmp_path)
    with pytest.raises(sy.CircuitOpenError) as e:
        f.fetch("bars", "688981", D0, D1)
    assert len(calls) == 3  # stopped at the threshold, not after max_retries
    retry_at = e.value.retry_at
    assert retry_at == pytest.approx(clock.now() + 600)
    assert sy._utc(retry_at) in str(e.value) and "resumes" in str(e.value)
    # a new run before the retry time stops at once, without calling the source
    call2, calls2 = scripted([])
    f2, _ = make_fetcher(call2, clock, cfg, tmp_path)
    with pytest.raises(sy.CircuitOpenError, match="not retrying before"):
        f2.fetch("bars", "688981", D0, D1)
    assert calls2 == []
    clock.t = retry_at + 1  # after the cooldown it goes again
    assert len(f2.fetch("bars", "688981", D0, D1)) == 6


def test_truncated_payload_is_retried_and_never_cached(tmp_path: Path) -> None:
    _, good = load_fixture("akshare_stock_zh_a_hist")
    cut = good.copy()
    cut.loc[cut.index[-1], "收盘"] = float("nan")
    cfg = sy.SyncConfig(rate=10)
    call, calls = scripted([cut])
    clock = FakeClock()
    f, counts = make_fetcher(call, clock, cfg, tmp_path)
    out = f.fetch("bars", "688981", D0, D1)
    assert out["close"].notna().all() and counts.retries == 1 and len(calls) == 2
    # the cached answer is the complete one: a second fetcher is served from disk
    call3, calls3 = scripted([cut])
    f3, c3 = make_fetcher(call3, clock, cfg, tmp_path)
    pd.testing.assert_frame_equal(f3.fetch("bars", "688981", D0, D1), out)
    assert calls3 == [] and c3.cached == 1


def test_cache_expiry_for_open_ranges(tmp_path: Path) -> None:
    cfg = sy.SyncConfig(rate=10, cache_max_age=3600)
    clock = FakeClock()
    today = dt.date.today()
    call, calls = scripted([])
    f, _ = make_fetcher(call, clock, cfg, tmp_path)
    f.fetch("bars", "688981", D0, today)  # range ends today: not final
    f.fetch("bars", "688981", D0, D1)  # range ended in the past: final
    assert len(calls) == 2
    clock.t += 7200
    f.fetch("bars", "688981", D0, today)
    f.fetch("bars", "688981", D0, D1)
    assert len(calls) == 3  # only the open range was fetched again


def test_gives_up_after_max_retries_with_one_line() -> None:
    cfg = sy.SyncConfig(rate=10, max_retries=2)
    call, calls = scripted([TimeoutError("t1"), TimeoutError("t2"), TimeoutError("t3")])
    f, _ = make_fetcher(call, FakeClock(), cfg)
    with pytest.raises(SourceError) as e:
        f.fetch("bars", "688981", D0, D1)
    assert "gave up after 3 attempts" in str(e.value) and "\n" not in str(e.value)
    assert len(calls) == 3


def test_schema_drift_and_other_errors_are_not_retried() -> None:
    _, good = load_fixture("akshare_stock_zh_a_hist")
    cfg = sy.SyncConfig(rate=10)
    call, calls = scripted([good.rename(columns={"涨跌额": "change"})])
    f, _ = make_fetcher(call, FakeClock(), cfg)
    with pytest.raises(SchemaDriftError, match="'涨跌额'"):
        f.fetch("bars", "688981", D0, D1)
    assert len(calls) == 1
    call, calls = scripted([HTTPError(404)])
    f, _ = make_fetcher(call, FakeClock(), cfg)
    with pytest.raises(SourceError, match="HTTP 404"):
        f.fetch("bars", "688981", D0, D1)
    assert len(calls) == 1


def test_classify() -> None:
    assert sy.classify(HTTPError(429)) == "ban" and sy.classify(HTTPError(403)) == "ban"
    assert sy.classify(HTTPError(503)) == "transient"
    assert sy.classify(ReadTimeout()) == "transient"
    assert sy.classify(ConnectionRefusedError()) == "transient"
    assert sy.classify(TimeoutError()) == "transient"
    # refusals the library reports without an HTTP status
    assert sy.classify(ConnectionResetError()) == "ban"
    assert sy.classify(ConnectionError("('Connection aborted.', RemoteDisconnected('Remote end "
                                       "closed connection without response'))")) == "ban"
    # an HTML/captcha page where JSON was expected is a refusal; JSON cut off is a retry
    assert sy.classify(json.JSONDecodeError("Expecting value", "<html>", 0)) == "ban"
    assert sy.classify(json.JSONDecodeError("Unterminated string starting at", '{"a": "b',
                                            6)) == "transient"
    assert sy.classify(KeyError("data")) == "fatal"


def test_config_rejects_bad_values() -> None:
    with pytest.raises(StarError, match="rate"):
        sy.SyncConfig(rate=0)
    with pytest.raises(StarError, match="batch"):
        sy.SyncConfig(batch_size=0)
