"""Input kinds for rows that come from online sources. Same checks as file ingest
(`kechuang.data.inputs`), but each names its source in the row so synced rows stay
distinguishable from bundled and user rows."""

from __future__ import annotations

from kechuang.data.inputs import InputSpec, bars_spec

# The columns each adapter dataset returns (our names, our units).
BAR_COLS = ("code", "date", "open", "high", "low", "close", "pre_close", "volume", "amount")
ADJ_COLS = ("code", "ex_date", "factor")
SHARES_COLS = ("code", "date", "total_shares", "float_shares")
SECURITIES_COLS = ("code", "name", "list_date")
FIN_COLS = ("code", "period_end", "revenue", "net_profit", "net_profit_deducted", "rd_expense",
            "rd_investment", "cfo", "cfi", "cff", "operating_profit", "eps_basic")
INDEX_COLS = ("index_code", "date", "open", "high", "low", "close", "volume")
WEIGHT_COLS = ("index_code", "reported_on", "code", "name", "weight_pct")

FLAG_KINDS = ("source_mismatch", "second_source_mismatch", "factor_mismatch")


def _q(s: str) -> str:
    return s.replace("'", "''")


def sync_bars_spec(source: str) -> InputSpec:
    """Unadjusted bars; `src` (the library function) lands in `origin`."""
    return bars_spec(kind=f"sync_bars_{source}", source=source, adjustment="none",
                     optional={"pre_close": "DOUBLE", "amount": "DOUBLE", "src": "VARCHAR"})


def securities_spec(source: str) -> InputSpec:
    return InputSpec(
        kind="sync_securities", table="securities",
        required={"code": "VARCHAR", "name": "VARCHAR", "list_date": "DATE"},
        key=("code",), not_null=("code", "name", "list_date"), star_code="code",
        select=("t.code, t.name, 'STAR', NULL, t.list_date, NULL, 'L', NULL, NULL, NULL, "
                "false, false, false, starts_with(t.code, '689'), NULL, "
                f"'{_q(source)}'"),
    )


def shares_spec(source: str) -> InputSpec:
    # Change dates are moved to the first session on or after them by the adapter; counts
    # before the listing day are kept (the IPO share capital), so no list-date check.
    return InputSpec(
        kind="sync_shares", table="shares",
        required={"code": "VARCHAR", "date": "DATE", "total_shares": "DOUBLE",
                  "float_shares": "DOUBLE"},
        key=("code", "date"), not_null=("code", "date", "total_shares"),
        prices=("total_shares",), non_negative=("float_shares",), star_code="code",
        session_date="date",
        select=(f"t.code, t.date, t.total_shares, t.float_shares, NULL, NULL, NULL, "
                f"'{_q(source)}'"),
    )


def adjustments_spec(source: str) -> InputSpec:
    return InputSpec(
        kind="sync_adjustments", table="adjustments",
        required={"code": "VARCHAR", "ex_date": "DATE", "factor": "DOUBLE"},
        key=("code", "ex_date"), not_null=("code", "ex_date", "factor"), star_code="code",
        session_date="ex_date", prices=("factor",),
        select=f"t.code, t.ex_date, t.factor, 'source', NULL, NULL, '{_q(source)}'",
    )


def financials_spec(source: str) -> InputSpec:
    num = {c: "DOUBLE" for c in FIN_COLS[2:]}
    return InputSpec(
        kind="sync_financials", table="financials",
        required={"code": "VARCHAR", "period_end": "DATE"}, optional=num,
        key=("code", "period_end"), not_null=("code", "period_end"), star_code="code",
        select=("t.code, t.period_end, t.revenue, t.net_profit, t.net_profit_deducted, "
                "t.rd_expense, t.rd_investment, t.cfo, t.cfi, t.cff, NULL, NULL, "
                "t.operating_profit, NULL, NULL, NULL, t.eps_basic, NULL, "
                f"'{_q(source)}'"),
    )


def index_levels_spec(source: str) -> InputSpec:
    return InputSpec(
        kind="sync_index_levels", table="index_levels",
        required={"index_code": "VARCHAR", "date": "DATE", "close": "DOUBLE"},
        optional={"open": "DOUBLE", "high": "DOUBLE", "low": "DOUBLE", "volume": "DOUBLE"},
        key=("index_code", "date"), not_null=("index_code", "date", "close"),
        prices=("close",), session_date="date",
        select=f"t.index_code, t.date, t.open, t.high, t.low, t.close, t.volume, '{_q(source)}'",
    )


def index_weights_spec(source_url: str) -> InputSpec:
    return InputSpec(
        kind="sync_index_weights", table="index_weights_reported",
        required={"index_code": "VARCHAR", "reported_on": "DATE", "code": "VARCHAR",
                  "weight_pct": "DOUBLE"},
        optional={"name": "VARCHAR"},
        key=("index_code", "reported_on", "code"),
        not_null=("index_code", "reported_on", "code", "weight_pct"),
        non_negative=("weight_pct",), star_code="code",
        select=("t.index_code, t.reported_on, t.code, CAST(row_number() OVER (PARTITION BY "
                "t.index_code, t.reported_on ORDER BY t.weight_pct DESC, t.code) AS INTEGER), "
                f"t.weight_pct, '{_q(source_url)}'"),
    )


FLAGS_SPEC = InputSpec(
    kind="sync_bar_flags", table="bar_flags",
    required={"code": "VARCHAR", "date": "DATE", "source": "VARCHAR", "kind": "VARCHAR",
              "value": "DOUBLE", "detail": "VARCHAR"},
    key=("code", "date", "source", "kind"), not_null=("code", "date", "source", "kind"),
    star_code="code", session_date="date",
    select="t.code, t.date, t.source, t.kind, t.value, t.detail",
)
