"""Data-quality findings derived after bars land: moves beyond the price limit outside the first
sessions after listing. In raw bars these are ex-rights events (bonus shares, conversions) whose
factor the data lacks; in forward-adjusted files they are misplaced factors. Recording them lets
returns and limit detection treat those bars correctly instead of seeing fake moves.

Runs as SQL inside the ingest transaction, against the store attached as `store`."""

from __future__ import annotations

from typing import Any

from kechuang.rules.schedule import DatedSchedule
from kechuang.rules.trading import NO_LIMIT_SESSIONS, PRICE_LIMIT

FLAG_KINDS = ("ex_rights_gap", "adjustment_gap")


def schedule_sql(schedule: DatedSchedule[Any], date_col: str) -> str:
    """A dated schedule as a SQL CASE on `date_col`, so SQL applies the same dated values."""
    parts = " ".join(f"WHEN {date_col} >= DATE '{s.effective_from}' THEN {s.value}"
                     for s in reversed(schedule.steps))
    return f"(CASE {parts} END)"


# Adjusted prices are not the prices the exchange set limits on: a limit close can show as a
# move slightly past 20% after (partial) adjustment. There the check is approximate (architecture:
# "limit-hit detection on qfq prices is approximate") and allows 0.5% of slack.
ADJUSTED_SLACK = 0.005


def _limit(prev: str, sign: str, date_col: str, slack: str = "0") -> str:
    # Limit price rounded half up to 0.01 (section 1), same formula as rules.trading.
    lim = f"({schedule_sql(PRICE_LIMIT, date_col)} + {slack})"
    return f"floor({prev} * (1 {sign} {lim}) * 100 + 0.5 + 1e-9) / 100"


def _in_codes(col: str, codes: str | None) -> str:
    return f" AND {col} IN (SELECT code FROM {codes})" if codes else ""


def beyond_limit_flags_sql(source: str, codes: str | None = None) -> list[str]:
    """Statements that recompute the beyond-limit flags of one bars series (`source`), for the
    codes in relation `codes` (all codes if None): a code's flags depend on its own bars only.
    Unadjusted series get `ex_rights_gap` at the exact limit; adjusted ones `adjustment_gap`
    with ADJUSTED_SLACK."""
    nolimit = schedule_sql(NO_LIMIT_SESSIONS, "b.date")
    slack = f"CASE WHEN adjustment = 'none' THEN 0 ELSE {ADJUSTED_SLACK} END"
    up, down = (_limit("prev_close", "+", "date", slack),
                _limit("prev_close", "-", "date", slack))
    detail = ("CASE WHEN adjustment = 'none' THEN 'move beyond the price limit after the "
              "no-limit window: ex-rights event (bonus/conversion) in unadjusted prices' "
              "ELSE 'move beyond the price limit after the no-limit window: adjustment error "
              "in an adjusted source' END")
    return [
        f"DELETE FROM store.bar_flags WHERE source = '{source}' AND kind IN "
        f"{FLAG_KINDS!r}{_in_codes('code', codes)}",
        f"""INSERT INTO store.bar_flags
        SELECT code, date, '{source}',
               CASE WHEN adjustment = 'none' THEN 'ex_rights_gap' ELSE 'adjustment_gap' END,
               close / prev_close, {detail} FROM (
          SELECT b.code, b.date, b.open, b.close, b.adjustment,
                 lag(b.close) OVER (PARTITION BY b.code ORDER BY b.date) AS prev_close,
                 ss.session_index - ls.session_index + 1 AS session_no, {nolimit} AS nolimit
          FROM store.bars_daily b
          JOIN store.sessions ss ON ss.date = b.date
          JOIN store.securities sec ON sec.code = b.code
          JOIN store.sessions ls ON ls.date = sec.list_date
          WHERE b.source = '{source}'{_in_codes('b.code', codes)}) b
        WHERE prev_close IS NOT NULL AND session_no > nolimit AND (
          close > {up} + 0.001 OR close < {down} - 0.001 OR
          open > {up} + 0.001 OR open < {down} - 0.001)""",
    ]


def estimated_adjustments_sql(codes: str | None = None) -> str:
    """Ex-rights gaps in raw bars with no known factor get one estimated as architecture decision
    3 says: (1 + the board's median return that day) / raw gap, rounded to the bonus ratio's
    0.1-per-10-shares step, method 'estimated'. Known factors are never overwritten.
    Returns a SELECT of adjustments rows, to be upserted."""
    return ("""SELECT code, date, 1 + round(((1 + med) / gap - 1) * 10, 1) / 10, 'estimated',
           prev_close, NULL, 'estimated: (1 + board median return) / raw gap'
    FROM (
      WITH r AS (
        SELECT code, date, close, lag(close) OVER (PARTITION BY code ORDER BY date) AS prev
        FROM store.bars_daily WHERE source = 'raw'),
      med AS (
        SELECT r.date, median(r.close / r.prev - 1) AS med FROM r
        ANTI JOIN store.bar_flags f ON f.code = r.code AND f.date = r.date AND f.source = 'raw'
        WHERE r.prev IS NOT NULL GROUP BY r.date)
      SELECT f.code, f.date, f.value AS gap, coalesce(m.med, 0) AS med, r.prev AS prev_close
      FROM store.bar_flags f
      JOIN r ON r.code = f.code AND r.date = f.date
      LEFT JOIN med m ON m.date = f.date
      LEFT JOIN store.adjustments a ON a.code = f.code AND a.ex_date = f.date
      WHERE f.source = 'raw' AND f.kind = 'ex_rights_gap' AND a.factor IS NULL"""
            + _in_codes("f.code", codes) + ")")


OVERSEAS_REVENUE_SQL = """UPDATE store.financials f SET overseas_revenue = s.overseas
FROM (SELECT code, report_date,
             coalesce(sum(revenue) FILTER (WHERE region_class = 'overseas'), 0) AS overseas
      FROM store.revenue_segments WHERE breakdown = 'location' GROUP BY ALL) s
WHERE f.code = s.code AND f.period_end = s.report_date"""
