"""Index engine: selection at quarterly reviews, free-float banding, capping through weight
factors, and a divisor that keeps the level continuous (star-market-reference.md section 6).

Arrays in (`IndexData`, built by kechuang.api.index from the store), `IndexResult` out. The
methodology comes only from the `IndexSpec` (kechuang.rules.index_methodology).

Calculation conventions (section 6.1):
- price index: cash dividends are not neutralised; bonus shares / conversions (ex-rights factor
  >= 1.05, docs/architecture.md decision 2) are neutralised: the move is measured from the
  exchange ex-rights pre-close (prev close / factor) and the share count grows by the factor;
- share counts, inclusion factors and weight factors are set at each review from the last
  session before the effective date and frozen until the next review;
- each review ranks on data to its cut-off (last session of Jan / Apr / Jul / Oct);
- A+H companies are weighted on A shares only: the store's total share count includes H shares,
  so the tradable A-share count stands in for the A-share total (inclusion factor 100%);
- float (tradable A) shares stand in for free-float shares.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from kechuang.core.errors import DateRangeError, MissingDataError, StarError
from kechuang.data.calendar import index_review_dates, sessions
from kechuang.kernels.index import cap_weights, chain_levels, ffill_rows, window_means
from kechuang.rules.index_methodology import IndexSpec, add_months, band_factor

BONUS_FACTOR_MIN = 1.05  # docs/architecture.md decision 2: below this an event is a dividend
FAST_ENTRY_CHECK_SESSIONS = 10  # section 6.1: listing age checked at the 10th session after cut


@dataclass
class IndexData:
    """Aligned (T sessions x N securities) arrays; NaN where there is no bar / no count."""

    dates: np.ndarray            # datetime64[D], consecutive sessions
    codes: np.ndarray            # str
    list_dates: np.ndarray       # datetime64[D] per code
    close: np.ndarray            # raw close
    amount: np.ndarray           # trading value, CNY
    total_shares: np.ndarray     # total shares (A+H for A+H companies)
    float_shares: np.ndarray     # tradable A shares
    bonus_factor: np.ndarray     # ex-rights factor to neutralise (1.0 = none)
    st: np.ndarray               # bool: (*)ST on that session
    a_plus_h: np.ndarray         # bool per code
    shares_end: dt.date          # last session with share counts
    shares_source: str = "ganlei333"
    # A+H ranking shares: the store has no A-share total for A+H companies. 'float' ranks
    # them on tradable A shares (a lower bound of the A-share total, default); 'total' on
    # the total count incl. H shares valued at the A price (an upper bound).
    ah_ranking: str = "float"

    def a_shares(self) -> np.ndarray:
        """A-share total for ranking: the tradable A count for A+H companies (their total
        includes H shares), else the total (cached)."""
        cached = getattr(self, "_a_shares", None)
        if cached is None or cached[0] != self.ah_ranking:
            if self.ah_ranking not in ("float", "total"):
                raise StarError(f"ah_ranking must be 'float' or 'total', not "
                                f"{self.ah_ranking!r}")
            ah = self.a_plus_h[None, :] & (self.ah_ranking == "float")
            arr = np.ascontiguousarray(np.where(ah, self.float_shares, self.total_shares))
            cached = (self.ah_ranking, arr)
            self._a_shares = cached
        return cached[1]

    def pos(self, d: dt.date | np.datetime64) -> int:
        """Index of the last session on or before d."""
        key: Any = np.datetime64(str(d)[:10], "D")
        return int(np.searchsorted(self.dates, key, side="right")) - 1


@dataclass
class Event:
    effective: dt.date
    cutoff: dt.date | None        # None: weights refreshed, constituents unchanged
    kind: str                     # base, reweight, launch, review


@dataclass
class Selection:
    members: list[int]
    ranks: dict[int, int]
    eligible: int
    entrants: list[int] = field(default_factory=list)
    leavers: list[int] = field(default_factory=list)


@dataclass
class IndexResult:
    spec: IndexSpec
    levels: pd.DataFrame          # date, level, divisor, mcap, n_constituents
    weights: pd.DataFrame         # date, code, weight (every session, every constituent)
    reviews: list[dict[str, Any]]  # one per event: members, entrants, leavers, weight factors
    notes: list[str]
    arrays: dict[str, np.ndarray] = field(default_factory=dict)  # price, ref, qty, codes

    def members_on(self, date: dt.date | str) -> list[str]:
        d = pd.Timestamp(date)
        w = self.weights[self.weights["date"] == d]
        if w.empty:
            raise DateRangeError(f"{date} is not a session of this {self.spec.name} build "
                                 f"({self.levels['date'].iloc[0].date()}.."
                                 f"{self.levels['date'].iloc[-1].date()})")
        return sorted(w["code"])


def _cutoff(effective: dt.date) -> dt.date:
    """Last session of the month two months before the review month (Mar -> end of Jan)."""
    y, m = effective.year, effective.month - 2
    if m <= 0:
        y, m = y - 1, m + 12
    first_next = dt.date(y + m // 12, m % 12 + 1, 1)
    s = sessions(dt.date(y, m, 1), first_next - dt.timedelta(days=1))
    return dt.date.fromisoformat(str(s[-1]))


def schedule(spec: IndexSpec, start: dt.date, end: dt.date) -> list[Event]:
    """The events from `start` (the base) to `end`: reviews on the quarterly calendar; for an
    index with a launch list, back-history reviews only refresh weights until the live date."""
    live = spec.live_date
    has_launch = spec.launch_cutoff is not None and start < live
    events = [Event(start, spec.launch_cutoff if has_launch else start, "base")]
    for d in index_review_dates(start.year, end.year):
        if start < d <= end:
            events.append(Event(d, None, "reweight") if has_launch and d < live
                          else Event(d, _cutoff(d), "review"))
    if has_launch and live <= end:
        events.append(Event(live, None, "launch"))
    events.sort(key=lambda e: e.effective)
    return events


def rank_universe(data: IndexData, spec: IndexSpec, cut: int,
                  incumbents: list[int] | None = None
                  ) -> tuple[np.ndarray, np.ndarray, int, dict[str, Any]]:
    """Eligible, liquidity-screened securities ranked by average daily total market value over
    the `ranking_sessions` to the cut-off (since listing when shorter). Returns (order of code
    indices, average total MV, eligible count, facts)."""
    cut_date = dt.date.fromisoformat(str(data.dates[cut]))
    lo = max(0, cut - spec.ranking_sessions + 1)
    avg_mv, avg_amt, recent = window_means(data.close, data.a_shares(), data.amount, lo, cut,
                                           20)
    listed = (data.list_dates <= np.datetime64(cut_date)) & np.isfinite(avg_mv)
    # trading at the cut-off: a bar in the last 20 sessions (excludes delisted names)
    listed &= recent
    long_ago = np.datetime64(add_months(cut_date, -spec.seasoning.long_months))
    n_long = int((listed & (data.list_dates < long_ago)).sum())
    months = spec.seasoning.at(cut_date, n_long)
    seasoned = data.list_dates < np.datetime64(add_months(cut_date, -months))
    if incumbents:  # seasoning is an entry test: constituents that passed it stay eligible
        seasoned[np.asarray(incumbents, dtype=np.int64)] = True
    eligible = listed & seasoned
    fast = np.zeros_like(eligible)
    if spec.fast_entry_top > 0:
        check = cut + FAST_ENTRY_CHECK_SESSIONS
        check_date = (dt.date.fromisoformat(str(data.dates[check])) if check < len(data.dates)
                      else cut_date + dt.timedelta(days=14))
        board = np.where(listed, avg_mv, -np.inf)
        top = np.argsort(-board, kind="mergesort")[:spec.fast_entry_top]
        old_enough = data.list_dates < np.datetime64(add_months(check_date,
                                                               -spec.fast_entry_months))
        fast[top] = listed[top] & old_enough[top]
        eligible |= fast
    if spec.exclude_st:
        eligible &= ~data.st[cut]
    idx = np.nonzero(eligible)[0]
    n_elig = len(idx)
    n_drop = math.floor(n_elig * spec.liquidity_drop)
    if n_drop:
        by_amt = idx[np.lexsort((idx, np.nan_to_num(avg_amt[idx], nan=-1.0)))]
        idx = np.sort(by_amt[n_drop:])
    order = idx[np.lexsort((idx, -avg_mv[idx]))]
    facts = {"cutoff_session": str(cut_date), "seasoning_months": months,
             "n_listed": int(listed.sum()), "n_eligible": n_elig, "n_liquidity_dropped": n_drop,
             "fast_entry": [str(data.codes[j]) for j in np.nonzero(fast & ~seasoned)[0]]}
    return order, avg_mv, n_elig, facts


def select(spec: IndexSpec, order: np.ndarray, incumbents: list[int] | None) -> Selection:
    """Apply rank offset, buffers and the turnover limit (section 6.1 Review):
    incumbents ranked within `incumbent_buffer` are kept; candidates ranked within
    `entrant_buffer` enter first (at most `max_turnover` x n changes unless more incumbents
    must leave); gaps are filled by rank."""
    ranked = [int(j) for j in order[spec.rank_offset:]]
    ranks = {j: r + 1 for r, j in enumerate(ranked)}
    n = spec.n_constituents if spec.n_constituents is not None else len(ranked)
    if not incumbents or spec.n_constituents is None or spec.incumbent_buffer is None:
        members = ranked[:n]
        inc = set(incumbents or [])
        return Selection(members, ranks, len(order),
                         [j for j in members if j not in inc] if incumbents else [],
                         [j for j in inc if j not in set(members)])
    inc = set(incumbents)
    inc_buf = spec.incumbent_buffer
    ent_buf = spec.entrant_buffer or n
    stay = [j for j in ranked if j in inc and ranks[j] <= inc_buf]
    forced_out = len(inc) - len(stay)
    max_changes = max(forced_out, math.floor(spec.max_turnover * n + 1e-9))
    priority = [j for j in ranked if j not in inc and ranks[j] <= ent_buf][:max_changes]
    members = stay + priority
    if len(members) > n:  # make room: the lowest-ranked staying incumbents leave
        keep_stay = sorted(stay, key=lambda j: ranks[j])[:max(n - len(priority), 0)]
        members = keep_stay + priority
    if len(members) < n:  # fill the gaps by rank (reserve list)
        chosen = set(members)
        for j in ranked:
            if len(members) >= n:
                break
            if j not in chosen:
                members.append(j)
                chosen.add(j)
    members = sorted(members, key=lambda j: ranks[j])
    ms = set(members)
    return Selection(members, ranks, len(order), [j for j in members if j not in inc],
                     sorted((j for j in inc if j not in ms), key=lambda j: ranks.get(j, 10**9)))


def structure_date(effective: dt.date) -> dt.date:
    """Share structure date for weights in force from `effective`: the last quarter end
    before the month of the effective date (section 6.1: counts from the latest periodic report,
    quarter-end structure; Mar review -> Dec 31, Jun -> Mar 31, Sep -> Jun 30, Dec -> Sep 30)."""
    q_month = ((effective.month - 1) // 3) * 3  # 0, 3, 6, 9
    if q_month == 0:
        return dt.date(effective.year - 1, 12, 31)
    return dt.date(effective.year, q_month + 1, 1) - dt.timedelta(days=1)


def share_snapshot(data: IndexData, mem: np.ndarray, effective: dt.date, last: int
                   ) -> tuple[np.ndarray, np.ndarray]:
    """(total, float) share counts of `mem` at the quarter-end structure date for `effective`;
    a security listed after that date takes its first count (its listing structure). `last`
    is the last session the snapshot may look at (the day before the effective date)."""
    q = data.pos(structure_date(effective))
    if effective == structure_date(effective) or q < 0:
        q = last
    q = min(q, last)
    tot = data.total_shares[q, mem].copy()
    flt = data.float_shares[q, mem].copy()
    miss = np.nonzero(~np.isfinite(tot) | ~np.isfinite(flt))[0]
    for i in miss:
        col_t = data.total_shares[q:last + 1, mem[i]]
        col_f = data.float_shares[q:last + 1, mem[i]]
        ok = np.nonzero(np.isfinite(col_t) & np.isfinite(col_f))[0]
        if len(ok):
            tot[i], flt[i] = col_t[ok[0]], col_f[ok[0]]
    return tot, flt


def weight_factors(spec: IndexSpec, price: np.ndarray, total: np.ndarray, flt: np.ndarray,
                   a_plus_h: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(adjusted shares, inclusion factor, weight factor) for the members' arrays.
    Adjusted shares = A-share total x banded free-float factor (section 6.1 banding); weight
    factors in (0, 1] bring the weights at `price` within the caps (section 6.1 Caps)."""
    a_total = np.where(a_plus_h, flt, total)
    if spec.weighting == "free_float":
        incl = np.array([band_factor(r) for r in flt / a_total])
    else:
        incl = np.ones(len(total))
    adj = a_total * incl
    raw_w = price * adj
    if spec.single_cap is None and spec.top5_cap is None:
        return adj, incl, np.ones(len(total))
    capped = cap_weights(raw_w, spec.single_cap or 0.0, spec.top5_cap or 0.0, 5)
    f = capped / (raw_w / raw_w.sum())
    return adj, incl, f / f.max()


def build(data: IndexData, spec: IndexSpec, start: dt.date | None = None,
          end: dt.date | None = None) -> IndexResult:
    """The index from `start` (default: the spec's base date) to `end` (default: the last
    session the share counts support)."""
    start = start or spec.base_date
    if start < spec.base_date:
        raise DateRangeError(f"{spec.name} starts on its base date {spec.base_date}; "
                             f"{start} is before it")
    first, last = (dt.date.fromisoformat(str(data.dates[i])) for i in (0, -1))
    end = end or last
    if start > end:
        raise DateRangeError(f"start {start} is after end {end}")
    s0 = data.pos(start)
    if s0 < 0 or data.dates[s0] != np.datetime64(start, "D"):
        raise DateRangeError(f"{spec.name} base {start} is not a session with data "
                             f"(data {first}..{last})")
    if end > last:
        raise MissingDataError(f"prices end {last}; cannot build {spec.name} to {end}")
    events = schedule(spec, start, end)
    for ev in events:
        # a review needs share counts to its cut-off; every event needs its structure date
        needs = max(ev.cutoff if ev.kind == "review" and ev.cutoff else ev.effective,
                    structure_date(ev.effective)) if ev.kind != "base" else ev.effective
        if ev.kind == "base" and ev.cutoff:
            needs = max(needs, ev.cutoff)
        if needs > data.shares_end:
            gap = sessions(data.shares_end + dt.timedelta(days=1), needs)
            missing = f"{gap[0]}..{gap[-1]}" if len(gap) else f"to {needs}"
            raise MissingDataError(
                f"share counts ({data.shares_source}) end {data.shares_end}: the "
                f"{ev.effective} {ev.kind} of {spec.name} needs them to {needs} (missing "
                f"{missing}); build to {ev.effective - dt.timedelta(days=1)} at most")
    e0 = data.pos(end)
    t_idx = np.arange(s0, e0 + 1)
    n_t, n_s = len(t_idx), len(data.codes)
    # carry the last close over suspensions (a suspended constituent keeps its price)
    price = ffill_rows(np.ascontiguousarray(data.close[:e0 + 1]))[s0:]
    qty = np.zeros((n_t, n_s))
    ref = np.vstack([price[:1], price[:-1]])
    bf = np.where(data.bonus_factor[s0:e0 + 1] >= BONUS_FACTOR_MIN,
                  data.bonus_factor[s0:e0 + 1], 1.0)
    ref = ref / bf
    reviews: list[dict[str, Any]] = []
    members: list[int] = []
    launch_members: list[int] = []
    for k, ev in enumerate(events):
        p_eff = data.pos(ev.effective)
        snap = p_eff if ev.kind == "base" else p_eff - 1
        facts: dict[str, Any] = {}
        entrants: list[int] = []
        leavers: list[int] = []
        ranks: dict[int, int] = {}
        if ev.kind == "base" or ev.kind == "review":
            assert ev.cutoff is not None
            cut = data.pos(ev.cutoff)
            inc = members if ev.kind == "review" else None
            order, _avg, _n, facts = rank_universe(data, spec, cut, inc)
            sel = select(spec, order, inc)
            ranks = sel.ranks
            if ev.kind == "base":
                launch_members = sel.members
                listed_now = data.list_dates <= data.dates[p_eff]
                new_members = [j for j in sel.members if listed_now[j]]
            else:
                new_members, entrants, leavers = sel.members, sel.entrants, sel.leavers
        elif ev.kind == "launch":
            new_members = sorted(launch_members)
            entrants = [j for j in new_members if j not in set(members)]
        else:
            new_members = members
        if not new_members:
            raise StarError(f"{spec.name}: no eligible securities at the {ev.effective} "
                            f"{ev.kind} (cut-off {ev.cutoff}); start at a later review date")
        mem = np.array(sorted(new_members, key=lambda j: ranks.get(j, 0)), dtype=np.int64)
        tot, flt = share_snapshot(data, mem, ev.effective, snap)
        bad = mem[~(np.isfinite(tot) & np.isfinite(flt) & (flt > 0))]
        if len(bad):
            raise MissingDataError(
                f"share counts missing for {', '.join(data.codes[bad][:5])} on "
                f"{data.dates[snap]} (needed by the {ev.effective} {ev.kind} of {spec.name})")
        p_snap = price[snap - s0, mem] if snap >= s0 else data.close[snap, mem]
        adj, incl, wf = weight_factors(spec, p_snap, tot, flt, data.a_plus_h[mem])
        row0 = p_eff - s0
        row1 = (data.pos(events[k + 1].effective) - s0) if k + 1 < len(events) else n_t
        seg = np.cumprod(bf[row0:row1, mem], axis=0)
        qty[row0:row1, :] = 0.0
        qty[row0:row1, mem] = (adj * wf)[None, :] * seg
        w_snap = p_snap * adj * wf
        w_snap = w_snap / w_snap.sum()
        reviews.append({
            "effective_date": ev.effective, "kind": ev.kind, "cutoff": ev.cutoff,
            "members": [str(c) for c in data.codes[mem]],
            "entrants": [str(data.codes[j]) for j in entrants],
            "leavers": [str(data.codes[j]) for j in leavers],
            "table": pd.DataFrame({"code": data.codes[mem],
                                   "rank": [ranks.get(int(j)) for j in mem],
                                   "total_shares": tot, "float_shares": flt,
                                   "inclusion_factor": incl, "weight_factor": wf,
                                   "weight": w_snap}),
            **facts})
        members = [int(j) for j in mem]
    level, divisor, mcap = chain_levels(price, ref, qty, spec.base_value)
    dates = pd.to_datetime(data.dates[s0:e0 + 1])
    n_con = (qty > 0).sum(axis=1)
    levels = pd.DataFrame({"date": dates, "level": level, "divisor": divisor, "mcap": mcap,
                           "n_constituents": n_con})
    with np.errstate(invalid="ignore"):
        w = np.where(qty > 0, qty * price, 0.0)
    w = w / w.sum(axis=1, keepdims=True)
    rr, cc = np.nonzero(qty > 0)
    weights = pd.DataFrame({"date": dates[rr],
                            "code": pd.Categorical.from_codes(cc, categories=list(data.codes)),  # type: ignore[call-overload]
                            "weight": w[rr, cc]})
    weights["code"] = weights["code"].astype(object)
    notes = [f"share counts from '{data.shares_source}' to {data.shares_end}",
             "float (tradable A) shares stand in for free-float shares",
             "A+H companies: tradable A shares stand in for the A-share total in weights; "
             f"ranked on {'tradable A' if data.ah_ranking == 'float' else 'total (A+H)'} "
             "shares",
             "cash dividends not neutralised (price index); bonus/conversion events neutralised "
             "via the exchange pre-close", *spec.notes]
    notes = list(dict.fromkeys(notes))
    keep = np.nonzero((qty > 0).any(axis=0))[0]
    arrays = {"price": price[:, keep], "ref": ref[:, keep], "qty": qty[:, keep],
              "codes": data.codes[keep]}
    return IndexResult(spec, levels, weights, reviews, notes, arrays)


def simulate_review(data: IndexData, spec: IndexSpec, members: list[str], as_of: dt.date
                    ) -> dict[str, Any]:
    """Expected changes at the next review after `as_of`, from data as of `as_of`: the cut-off
    is the review's own cut-off, or `as_of` if that is earlier (data not yet complete)."""
    nxt = next(d for d in index_review_dates(as_of.year, as_of.year + 1) if d > as_of)
    cut_date = min(_cutoff(nxt), as_of)
    cut = data.pos(cut_date)
    if cut < 0:
        raise DateRangeError(f"no data on or before {as_of}")
    cut_date = dt.date.fromisoformat(str(data.dates[cut]))
    if cut_date > data.shares_end:
        raise MissingDataError(f"share counts ({data.shares_source}) end {data.shares_end}; "
                               f"a review from data as of {as_of} needs them to {cut_date}")
    code_idx = {str(c): i for i, c in enumerate(data.codes)}
    inc = [code_idx[c] for c in members]
    order, avg_mv, _n, facts = rank_universe(data, spec, cut, inc)
    sel = select(spec, order, inc)
    mem = np.array(sel.members, dtype=np.int64)
    snap = data.pos(as_of)
    price = pd.DataFrame(data.close[:snap + 1, mem]).ffill().to_numpy()[-1]
    adj, incl, wf = weight_factors(spec, price, data.total_shares[snap, mem],
                                   data.float_shares[snap, mem], data.a_plus_h[mem])
    w = price * adj * wf
    table = pd.DataFrame({"code": data.codes[mem], "rank": [sel.ranks[int(j)] for j in mem],
                          "avg_total_mv": avg_mv[mem], "inclusion_factor": incl,
                          "weight_factor": wf, "weight": w / w.sum(),
                          "status": ["enters" if int(j) in set(sel.entrants) else "stays"
                                     for j in mem]})
    return {"index": spec.code, "as_of": as_of, "next_review": nxt, "cutoff_used": cut_date,
            "entrants": [str(data.codes[j]) for j in sel.entrants],
            "leavers": [str(data.codes[j]) for j in sel.leavers],
            "leaver_ranks": {str(data.codes[j]): sel.ranks.get(j) for j in sel.leavers},
            "table": table, **facts}


def tracking_stats(ours: pd.Series, official: pd.Series, start: dt.date, end: dt.date,
                   base: dt.date | None = None, base_value: float = 1000.0) -> dict[str, Any]:
    """Daily-return correlation, annualised tracking error, largest daily deviation and the
    level gap of `ours` against `official` (both indexed by date) over [start, end]. The
    official base row (base date = base_value) is added when missing."""
    from kechuang.data.calendar import mean_sessions_per_year

    off = official.copy()
    if base is not None and pd.Timestamp(base) not in off.index:
        off = pd.concat([off, pd.Series([base_value], index=[pd.Timestamp(base)])]
                        ).sort_index()
    j = pd.concat([ours.rename("ours"), off.rename("official")], axis=1, join="inner")
    j = j.sort_index()
    a, b = pd.Timestamp(start), pd.Timestamp(end)
    r = j.pct_change()
    r = r[(r.index >= a) & (r.index <= b)].dropna()
    if len(r) < 2:
        raise DateRangeError(f"fewer than 2 common sessions between {start} and {end}")
    dev = r["ours"] - r["official"]
    k = int(np.argmax(np.abs(dev.to_numpy())))
    last = j[j.index <= b].iloc[-1]
    rebased = (j["ours"] / j["official"])
    win = rebased[(rebased.index >= a) & (rebased.index <= b)]
    return {"from": str(r.index[0].date()), "to": str(r.index[-1].date()), "sessions": len(r),
            "return_corr": float(r["ours"].corr(r["official"])),
            "tracking_error_ann": float(dev.std(ddof=1) * math.sqrt(mean_sessions_per_year())),
            "max_daily_dev_bp": float(abs(dev.iloc[k]) * 1e4),
            "max_daily_dev_date": str(dev.index[k].date()),
            "end_level_ours": float(last["ours"]), "end_level_official": float(last["official"]),
            "end_level_gap": float(last["ours"] / last["official"] - 1.0),
            "window_level_gap_change": float(win.iloc[-1] / win.iloc[0] - 1.0)}
