"""Input kinds: what a file must hold to become rows of a table, and the checks it must pass.

A spec names required and optional columns with their types, the key, which columns are prices,
which date must be an XSHG session, and the SELECT that maps checked input rows (relation `t`)
to the table's columns. Bundled datasets and user files go through the same specs."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class InputSpec:
    kind: str
    table: str
    required: dict[str, str]
    optional: dict[str, str] = field(default_factory=dict)
    key: tuple[str, ...] = ()
    not_null: tuple[str, ...] = ()
    prices: tuple[str, ...] = ()  # must be finite and > 0
    non_negative: tuple[str, ...] = ()
    ohlc: bool = False
    star_code: str | None = None  # column that must be a 688xxx/689xxx code
    session_date: str | None = None  # column that must be an XSHG session
    listed: bool = False  # code must be a known security and date on/after its list date
    select: str = ""  # SELECT list over `t` producing the table's columns in order
    where: str = ""  # rows of `t` to keep (others are dropped on purpose, e.g. glitch rows)
    relation: str = "{t} t"  # FROM clause; {t} is the checked input
    # Rows recorded in bar_flags instead of loaded: (condition on t, kind column, detail)
    flag_rows: tuple[str, str, str] | None = None
    bar_source: str | None = None  # for bars: the series' `source` value
    ignore: tuple[str, ...] = ()  # columns present in the source and dropped on purpose

    @property
    def all_columns(self) -> dict[str, str]:
        return {**self.required, **self.optional}


BAR_COLUMNS = {"code": "VARCHAR", "date": "DATE", "open": "DOUBLE", "high": "DOUBLE",
               "low": "DOUBLE", "close": "DOUBLE", "volume": "DOUBLE"}


def bars_spec(kind: str = "bars", source: str = "raw", adjustment: str = "none",
              volume_multiplier: int = 1, optional: dict[str, str] | None = None,
              ignore: tuple[str, ...] = ()) -> InputSpec:
    opt = {"pre_close": "DOUBLE", "amount": "DOUBLE"} if optional is None else optional
    pre = "t.pre_close" if "pre_close" in opt else "NULL"
    amount = "t.amount" if "amount" in opt else "NULL"
    origin = "t.src" if "src" in opt else "NULL"
    return InputSpec(
        kind=kind, table="bars_daily", required=dict(BAR_COLUMNS), optional=opt,
        key=("code", "date"), not_null=("code", "date", "open", "high", "low", "close"),
        prices=("open", "high", "low", "close", *(["pre_close"] if "pre_close" in opt else [])),
        non_negative=("volume", *(["amount"] if "amount" in opt else [])), ohlc=True,
        star_code="code", session_date="date", listed=True, ignore=ignore, bar_source=source,
        select=(f"t.code, t.date, t.open, t.high, t.low, t.close, {pre}, "
                f"t.volume * {volume_multiplier}, {amount}, '{adjustment}', '{source}', "
                f"{origin}"),
    )


USER_SPECS: dict[str, InputSpec] = {
    "bars": bars_spec(),
    "securities": InputSpec(
        kind="securities", table="securities",
        required={"code": "VARCHAR", "name": "VARCHAR", "list_date": "DATE"},
        optional={"delist_date": "DATE", "industry": "VARCHAR", "area": "VARCHAR",
                  "status": "VARCHAR", "listing_standard": "VARCHAR", "flag_U": "BOOLEAN",
                  "flag_W": "BOOLEAN", "flag_V": "BOOLEAN", "flag_CDR": "BOOLEAN"},
        key=("code",), not_null=("code", "name", "list_date"), star_code="code",
        select=("t.code, t.name, 'STAR', t.area, t.list_date, t.delist_date, "
                "coalesce(t.status, CASE WHEN t.delist_date IS NULL THEN 'L' ELSE 'D' END), "
                "t.industry, NULL, t.listing_standard, coalesce(t.flag_U, false), "
                "coalesce(t.flag_W, false), coalesce(t.flag_V, false), "
                "coalesce(t.flag_CDR, starts_with(t.code, '689')), NULL, 'user'"),
    ),
    "shares": InputSpec(
        kind="shares", table="shares",
        required={"code": "VARCHAR", "date": "DATE", "total_shares": "DOUBLE",
                  "float_shares": "DOUBLE"},
        optional={"free_float_ratio": "DOUBLE"},
        key=("code", "date"), not_null=("code", "date", "total_shares", "float_shares"),
        prices=("total_shares",), non_negative=("float_shares",), star_code="code",
        session_date="date", listed=True,
        select=("t.code, t.date, t.total_shares, t.float_shares, t.free_float_ratio, NULL, NULL, "
                "'user'"),
    ),
    "adjustments": InputSpec(
        kind="adjustments", table="adjustments",
        required={"code": "VARCHAR", "ex_date": "DATE", "factor": "DOUBLE"},
        optional={"prev_close": "DOUBLE", "pre_close": "DOUBLE", "method": "VARCHAR"},
        key=("code", "ex_date"), not_null=("code", "ex_date"), star_code="code",
        session_date="ex_date", prices=("factor",),
        select=("t.code, t.ex_date, t.factor, coalesce(t.method, 'user'), t.prev_close, "
                "t.pre_close, 'user'"),
    ),
    "index_levels": InputSpec(
        kind="index_levels", table="index_levels",
        required={"index_code": "VARCHAR", "date": "DATE", "close": "DOUBLE"},
        optional={"open": "DOUBLE", "high": "DOUBLE", "low": "DOUBLE", "volume": "DOUBLE"},
        key=("index_code", "date"), not_null=("index_code", "date", "close"),
        prices=("close",), session_date="date",
        select="t.index_code, t.date, t.open, t.high, t.low, t.close, t.volume, 'user'",
    ),
    # Annual statements (CNY, not 10k) from an AKShare/Tushare export; schema and column
    # mapping in docs/board.md. A row replaces the stored (code, period_end) row whole.
    "financials": InputSpec(
        kind="financials", table="financials",
        required={"code": "VARCHAR", "period_end": "DATE", "revenue": "DOUBLE"},
        optional={c: "DOUBLE" for c in (
            "net_profit", "net_profit_deducted", "rd_expense", "rd_investment", "cfo", "cfi",
            "cff", "overseas_revenue", "gross_profit", "operating_profit", "total_assets",
            "total_liabilities", "equity_parent", "eps_basic", "roe_weighted_pct")}
        | {"source": "VARCHAR"},
        key=("code", "period_end"), not_null=("code", "period_end", "revenue"), star_code="code",
        non_negative=("revenue", "rd_expense", "rd_investment", "overseas_revenue"),
        select=("t.code, t.period_end, t.revenue, t.net_profit, t.net_profit_deducted, "
                "t.rd_expense, t.rd_investment, t.cfo, t.cfi, t.cff, t.overseas_revenue, "
                "t.gross_profit, t.operating_profit, t.total_assets, t.total_liabilities, "
                "t.equity_parent, t.eps_basic, t.roe_weighted_pct, coalesce(t.source, 'user')"),
    ),
    # Issue-level sci-tech bonds; amounts in CNY 100m (亿元). Ratings, issuer types and venues
    # are checked against closed lists (an unknown value fails the type cast with its row).
    "bonds": InputSpec(
        kind="bonds", table="bonds",
        required={"bond_code": "VARCHAR", "issuer": "VARCHAR",
                  "issuer_type": "ENUM('central_soe', 'local_soe', 'private', 'financial', "
                                 "'other')",
                  "issue_date": "DATE", "amount_cny_100m": "DOUBLE", "tenor_years": "DOUBLE",
                  "rating": "ENUM('AAA', 'AA+', 'AA', 'AA-', 'A+', 'A', 'A-', 'BBB+', 'BBB', "
                            "'BBB-', 'BB+', 'BB', 'BB-', 'B+', 'B', 'B-', 'CCC', 'CC', 'C')",
                  "venue": "ENUM('SSE', 'SZSE', 'BSE', 'interbank')"},
        optional={"bond_name": "VARCHAR", "coupon_pct": "DOUBLE", "is_sci_tech": "BOOLEAN",
                  "bond_rating": "ENUM('AAA', 'AA+', 'AA', 'AA-', 'A+', 'A', 'A-', 'BBB+', "
                                 "'BBB', 'BBB-', 'BB+', 'BB', 'BB-', 'B+', 'B', 'B-', 'CCC', "
                                 "'CC', 'C')",
                  "source_url": "VARCHAR"},
        key=("bond_code",),
        not_null=("bond_code", "issuer", "issuer_type", "issue_date", "amount_cny_100m",
                  "tenor_years", "venue"),
        prices=("amount_cny_100m", "tenor_years"), non_negative=("coupon_pct",),
        select=("t.bond_code, t.bond_code, t.bond_name, t.issuer, t.issuer_type::VARCHAR, "
                "t.venue::VARCHAR, t.issue_date, 'issue date', t.amount_cny_100m * 1e8, "
                "'issued amount', t.tenor_years, t.coupon_pct, t.rating::VARCHAR, "
                "t.bond_rating::VARCHAR, coalesce(t.is_sci_tech, true), NULL, t.source_url"),
    ),
}
