"""The real sample data shipped in `kechuang/datasets/` (copied from public sources; each folder's
README gives source, coverage and quirks). One entry per file: its input spec, provenance and
as-of date. Order matters: the company master comes before anything checked against it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from kechuang.data.inputs import InputSpec, bars_spec


@dataclass(frozen=True)
class Bundled:
    name: str
    file: str  # relative to kechuang/datasets
    spec: InputSpec
    source: str
    as_of: dt.date
    notes: str = ""


def datasets_dir() -> Path:
    return Path(str(resources.files("kechuang") / "datasets"))


_D = "DOUBLE"
_S = "VARCHAR"
_DATE = "DATE"

_FIN_ITEMS = ("bps", "cfo", "current_assets", "current_liabilities", "eps_basic", "equity_parent",
              "gross_profit_main", "investment_income", "net_change_cash", "net_profit",
              "net_profit_deducted", "non_operating_net", "ocf_per_share", "operating_profit",
              "profit_before_tax", "revenue_main", "roe_weighted_pct", "total_assets",
              "total_liabilities")

BUNDLED: tuple[Bundled, ...] = (
    Bundled(
        "star_master", "star_master/star_stock_basic.csv",
        InputSpec(
            kind="star_master", table="securities",
            required={"code": _S, "ts_code": _S, "name": _S, "area": _S, "industry_tushare": _S,
                      "list_date": _DATE, "delist_date": _DATE, "status": _S,
                      "flag_U": "BOOLEAN", "flag_W": "BOOLEAN", "flag_CDR": "BOOLEAN"},
            key=("code",), not_null=("code", "name", "list_date"), star_code="code",
            select=("t.code, t.name, 'STAR', t.area, t.list_date, t.delist_date, t.status, "
                    "t.industry_tushare, NULL, NULL, t.flag_U, t.flag_W, "
                    # V (VIE) is not in the snapshot's name suffixes; left false, not guessed.
                    "false, t.flag_CDR, NULL, 'tushare stock_basic'"),
        ),
        "AFAN-LIFE/macropage (Tushare stock_basic), snapshot 2026-03-04",
        dt.date(2026, 3, 4), "U/W/CDR flags from name suffixes at the snapshot"),
    Bundled(
        "star_name_history", "star_master/star_name_history_2024_2026.csv",
        InputSpec(
            kind="name_history", table="name_history",
            required={"code": _S, "name": _S, "status": _S, "first_seen": _DATE,
                      "last_seen": _DATE, "n_snapshots": "INTEGER"},
            key=("code", "name", "first_seen"), not_null=("code", "name", "first_seen"),
            star_code="code",
            select="t.code, t.name, t.status, t.first_seen, t.last_seen, t.n_snapshots"),
        "AFAN-LIFE/macropage, 278 daily snapshots", dt.date(2026, 3, 4)),
    Bundled(
        "star_daily_unadj", "adj_factors/star_daily_unadj_2019_2025.csv.gz",
        bars_spec("star_daily_unadj", source="raw", adjustment="none",
                  optional={"pre_close": _D, "amount": _D, "src": _S}),
        "suiwenfeng/stock (TDX, src=S) + ganlei333/stockdata (src=G, with exchange pre-close)",
        dt.date(2025, 5, 23), "primary price history, unadjusted; pre_close to 2022-01-14"),
    Bundled(
        "star_adj_events_exact", "adj_factors/star_adj_events_2019_2022_exact.csv",
        InputSpec(
            kind="adj_events_exact", table="adjustments",
            required={"code": _S, "ex_date": _DATE, "prev_close": _D, "pre_close": _D,
                      "factor": _D, "method": _S},
            key=("code", "ex_date"), not_null=("code", "ex_date", "factor"),
            prices=("prev_close", "pre_close", "factor"), star_code="code",
            session_date="ex_date", listed=True,
            select="t.code, t.ex_date, t.factor, t.method, t.prev_close, t.pre_close, "
                   "'exchange pre-close'"),
        "derived from ganlei333/stockdata exchange pre-close", dt.date(2022, 1, 14)),
    Bundled(
        "star_adj_events_reconstructed", "adj_factors/star_adj_events_2022_2025_reconstructed.csv",
        InputSpec(
            kind="adj_events_reconstructed", table="adjustments",
            required={"code": _S, "ex_date": _DATE, "factor": _D, "method": _S},
            optional={"prev_close_raw": _D, "close_raw": _D, "raw_gap": _D,
                      "star_daily_misplaced_factor": _D, "residual_log": _D,
                      "window_start": _DATE, "window_end": _DATE},
            key=("code", "ex_date"), not_null=("code", "method"), star_code="code",
            session_date="ex_date", listed=True,
            # Unknown factors stay NULL (flagged by method), never guessed here. Events whose
            # ex-date is unknown (method pending_after_<date>_date_unknown) cannot be placed on
            # a session and are not loaded.
            select="t.code, t.ex_date, CASE WHEN isnan(t.factor) THEN NULL ELSE t.factor END, "
                   "t.method, t.prev_close_raw, NULL, 'reconstructed from star_daily'",
            where="t.ex_date IS NOT NULL"),
        "reconstructed from KayatJill/StockTradebyZ qfq vs raw bars", dt.date(2025, 7, 15),
        "factor NULL where unknown (method unknown_first_event_in_window); 204 events with "
        "unknown ex-date not loaded"),
    Bundled(
        "star_daily_qfq", "star_daily/star_daily_qfq.csv.gz",
        bars_spec("star_daily_qfq", source="star_daily_qfq", adjustment="qfq",
                  volume_multiplier=100, optional={}),
        "KayatJill/StockTradebyZ (mootdx, qfq; flawed factors, see README)",
        dt.date(2025, 7, 15), "second source; volume converted from lots to shares"),
    Bundled(
        "star50_members_bars", "star50_members_2025_2026/bars_shares.csv.gz",
        bars_spec("star50_members_bars", source="star50_members", adjustment="qfq",
                  optional={"pre_close": _D, "amount": _D},
                  ignore=("name", "industry", "is_st", "total_shares", "float_shares",
                          "total_mv", "float_mv", "list_date")),
        "Overwatch-mercy/stock-data, 50 STAR 50 constituents", dt.date(2026, 7, 17),
        "forward-adjusted as delivered; source defects in June-July 2026 (README quirk 6)"),
    Bundled(
        "star50_members_shares", "star50_members_2025_2026/bars_shares.csv.gz",
        InputSpec(
            kind="members_shares", table="shares",
            required={"code": _S, "date": _DATE, "total_shares": _D, "float_shares": _D,
                      "total_mv": _D, "float_mv": _D},
            ignore=("name", "industry", "open", "high", "low", "close", "pre_close", "volume",
                    "amount", "is_st", "list_date"),
            key=("code", "date"), not_null=("code", "date", "total_shares"),
            prices=("total_shares",), non_negative=("float_shares",), star_code="code",
            session_date="date", listed=True,
            select="t.code, t.date, t.total_shares, t.float_shares, NULL, t.total_mv, "
                   "t.float_mv, 'star50_members'"),
        "Overwatch-mercy/stock-data", dt.date(2026, 7, 17),
        "basis switches in 2025-03..2026-07 (README quirk 5)"),
    Bundled(
        "star_shares", "shares/star_mv_shares_daily_2019_2022.csv.gz",
        InputSpec(
            kind="shares_daily", table="shares",
            required={"code": _S, "date": _DATE, "close": _D, "total_mv": _D, "float_mv": _D,
                      "total_shares": _D, "float_shares": _D},
            optional={"flag": _S},
            key=("code", "date"), not_null=("code", "date", "total_shares", "float_shares"),
            prices=("close", "total_shares"), non_negative=("float_shares",), star_code="code",
            session_date="date", listed=True,
            # Glitch rows are dropped here and recorded in bar_flags by the ingest.
            select="t.code, t.date, t.total_shares, t.float_shares, NULL, t.total_mv, "
                   "t.float_mv, 'ganlei333'",
            where="t.flag IS NULL",
            flag_rows=("t.flag IS NOT NULL", "t.flag",
                       "share count dropped: source glitch (shares README)")),
        "ganlei333/stockdata (total/float market value / close)", dt.date(2022, 1, 14),
        "float shares are tradable A shares, not index free float"),
    Bundled(
        "star_financials", "financials/star_fin_summary_wide_fy2016_2020.csv",
        InputSpec(
            kind="financials_wide", table="financials",
            required={"code": _S, "report_date": _DATE},
            optional={c: _D for c in _FIN_ITEMS},
            key=("code", "report_date"), not_null=("code", "report_date"), star_code="code",
            # CNY 10k (万元) -> CNY; per-share and % items as they are.
            select="t.code, t.report_date, t.revenue_main * 1e4, t.net_profit * 1e4, "
                   "t.net_profit_deducted * 1e4, NULL, NULL, t.cfo * 1e4, NULL, NULL, NULL, "
                   "t.gross_profit_main * 1e4, t.operating_profit * 1e4, t.total_assets * 1e4, "
                   "t.total_liabilities * 1e4, t.equity_parent * 1e4, t.eps_basic, "
                   "t.roe_weighted_pct, 'YangAi/china-company-database'"),
        "YangAi/china-company-database (portal 主要财务指标)", dt.date(2021, 3, 11),
        "164 early companies, FY2016-2020; no R&D lines"),
    Bundled(
        "star_revenue_segments", "financials/star_revenue_segments_to2020.csv",
        InputSpec(
            kind="revenue_segments", table="revenue_segments",
            required={"code": _S, "name_at_source": _S, "report_date": _DATE, "breakdown": _S,
                      "segment": _S, "revenue_wan": _D, "cost_wan": _D,
                      "gross_margin_pct": _D, "share_of_profit_pct": _D, "region_class": _S},
            key=("code", "report_date", "breakdown", "segment"),
            not_null=("code", "report_date", "breakdown", "segment"), star_code="code",
            select="t.code, t.report_date, t.breakdown, t.segment, t.revenue_wan * 1e4, "
                   "t.cost_wan * 1e4, t.gross_margin_pct, t.region_class"),
        "YangAi/china-company-database (收入构成)", dt.date(2021, 3, 11)),
    Bundled(
        "star50_levels", "indices/star50_000688_daily.csv",
        InputSpec(
            kind="index_daily", table="index_levels",
            required={"date": _DATE, "open": _D, "high": _D, "low": _D, "close": _D,
                      "volume": _D, "source": _S},
            key=("date",), not_null=("date", "close"), prices=("open", "high", "low", "close"),
            ohlc=True, session_date="date",
            select="'000688', t.date, t.open, t.high, t.low, t.close, t.volume, t.source"),
        "AkShare stock_zh_index_daily (Sina) via daqingguaizi/kcb50-strategy + Hanson-SW",
        dt.date(2026, 8, 21), "rows before 2020-07-23 are back-calculated history"),
    Bundled(
        "csi300_levels", "indices/csi300_000300_daily.csv",
        InputSpec(
            kind="index_daily_ohlc", table="index_levels",
            required={"date": _DATE, "open": _D, "high": _D, "low": _D, "close": _D},
            key=("date",), not_null=("date", "close"), prices=("open", "high", "low", "close"),
            ohlc=True, session_date="date",
            select="'000300', t.date, t.open, t.high, t.low, t.close, NULL, 'Hanson-SW'"),
        "Hanson-SW/Hanson-SW.github.io (AkShare/Sina)", dt.date(2026, 8, 21),
        "close-only before mid-2005"),
    Bundled(
        "star50_valuation_wind", "indices/star50_000688_valuation_2020_2021.csv",
        InputSpec(
            kind="index_valuation_wind", table="index_valuation",
            required={"date": _DATE, "close": _D, "pe": _D, "pe_ttm": _D, "pb_lf": _D, "ps": _D},
            ignore=("open", "high", "low", "pct_chg", "volume", "roe_ttm", "pe_percentile",
                    "pb_percentile"),
            key=("date",), not_null=("date",), session_date="date",
            select="'000688', t.date, t.close, t.pe, t.pe_ttm, t.pb_lf, t.ps, NULL, 'wind'"),
        "azh18/libra (Wind-style export)", dt.date(2021, 7, 30), "roe_ttm is stale; not kept"),
    Bundled(
        "star50_valuation_weekly", "index_members/star50_weekly_valuation_2020_2023.csv",
        InputSpec(
            kind="index_valuation_weekly", table="index_valuation",
            required={"date": _DATE, "close": _D, "total_mv": _D, "total_earnings": _D,
                      "total_earnings_ttm": _D, "total_book_value": _D, "pe": _D, "pe_ttm": _D,
                      "pb": _D},
            key=("date",), not_null=("date",), session_date="date",
            select="'000688', t.date, t.close, t.pe, t.pe_ttm, t.pb, NULL, t.total_mv * 1e4, "
                   "'tushare weekly'"),
        "shensz0605/index_valuation (Tushare daily_basic aggregation)", dt.date(2023, 6, 21)),
    Bundled(
        "star50_constituents", "index_members/star50_constituents_csindex_20260227.csv",
        InputSpec(
            kind="index_members", table="index_members",
            required={"date": _DATE, "index_code": _S, "code": _S, "name": _S, "name_en": _S},
            key=("index_code", "date", "code"), not_null=("index_code", "date", "code"),
            star_code="code", listed=True, session_date="date",
            select="t.index_code, t.date, t.code, t.name, NULL, 'CSIndex 000688cons.xls'"),
        "CSIndex 000688cons.xls via Au-Cu/3PAS", dt.date(2026, 2, 27), "list only, no weights"),
    Bundled(
        "star50_top10_weights", "star50_index_info/star50_top10_weights_reported.csv",
        InputSpec(
            kind="weights_reported", table="index_weights_reported",
            required={"reported_on": _DATE, "rank": "INTEGER", "code": _S, "name": _S,
                      "weight_pct": _D, "source_url": _S},
            key=("reported_on", "code"), not_null=("reported_on", "code"), star_code="code",
            select="'000688', t.reported_on, t.code, t.rank, t.weight_pct, t.source_url"),
        "market reports (金融界 and another), dated by index close", dt.date(2024, 11, 14)),
    Bundled(
        "star50_methodology", "star50_index_info/star50_methodology_facts.csv",
        InputSpec(
            kind="methodology", table="index_methodology",
            required={"item": _S, "value": _S, "unit_or_note": _S, "source_url": _S},
            key=("item",), not_null=("item", "value"),
            select="'000688', t.item, t.value, t.unit_or_note, t.source_url"),
        "third-party restatements of the SSE/CSI methodology", dt.date(2024, 11, 14),
        "secondary sources"),
    Bundled(
        "etf_list", "etfs/etf_list.csv",
        InputSpec(
            kind="funds", table="funds",
            required={"code": _S, "name": _S, "first_date": _DATE, "last_date": _DATE,
                      "rows": "INTEGER"},
            key=("code",), not_null=("code", "name"),
            select="t.code, t.name, t.first_date, t.last_date"),
        "chenkx612/simple-a-shares-quant-system", dt.date(2026, 1, 21)),
    Bundled(
        "etf_daily", "etfs/etf_daily_qfq.csv",
        InputSpec(
            kind="fund_bars", table="fund_bars",
            required={"code": _S, "date": _DATE, "open": _D, "high": _D, "low": _D,
                      "close": _D, "volume": _D, "amount": _D},
            ignore=("amplitude_pct", "pct_chg", "chg", "turnover_pct"),
            key=("code", "date"), not_null=("code", "date", "close"),
            prices=("open", "high", "low", "close"), non_negative=("volume",), ohlc=True,
            session_date="date",
            select="t.code, t.date, t.open, t.high, t.low, t.close, t.volume * 100, t.amount, "
                   "'qfq'"),
        "AkShare fund_etf_hist_em qfq (Eastmoney) via chenkx612", dt.date(2026, 1, 21),
        "forward-adjusted as of 2026-01-21; volume converted from lots to units"),
    Bundled(
        "cgb_yield_curve", "macro/chinabond_cgb_yield_curve.csv",
        InputSpec(
            kind="yield_curve", table="rates",
            required={"date": _DATE, "y_3m": _D, "y_6m": _D, "y_1y": _D, "y_2y": _D,
                      "y_3y": _D, "y_5y": _D, "y_7y": _D, "y_10y": _D, "y_30y": _D,
                      "curve": _S},
            key=("date",), not_null=("date",),
            # Bond-market business days include weekend make-up days: not checked against XSHG.
            select="'cgb', replace(t.tenor, 'y_', ''), t.date, t.yield_pct",
            relation="(UNPIVOT {t} ON y_3m, y_6m, y_1y, y_2y, y_3y, y_5y, y_7y, y_10y, y_30y "
                     "INTO NAME tenor VALUE yield_pct) t"),
        "AFAN-LIFE/macropage (ChinaBond via Tushare)", dt.date(2026, 3, 4)),
    Bundled(
        "kcz_issue_sample", "bonds_issues/kcz_issues_sample_2024_2025.csv",
        InputSpec(
            kind="bond_issues", table="bonds",
            required={"issuer": _S, "bond_name": _S, "bond_code": _S, "exchange": _S,
                      "issue_or_event_date": _S, "date_meaning": _S, "tenor_years": _D,
                      "amount_cny_100m": _D, "amount_meaning": _S, "coupon_pct": _D,
                      "coupon_meaning": _S, "issuer_rating": _S, "bond_rating": _S,
                      "reported_by": _S, "source_url": _S},
            key=("issuer", "bond_name"), not_null=("issuer", "bond_name"),
            select="coalesce(t.bond_code, t.issuer || ' ' || t.bond_name), t.bond_code, "
                   "t.bond_name, t.issuer, NULL, t.exchange, "
                   # month-only dates ('2025-06', date_meaning says so) -> the 1st
                   "coalesce(TRY_CAST(t.issue_or_event_date AS DATE), "
                   "TRY_CAST(t.issue_or_event_date || '-01' AS DATE)), "
                   "t.date_meaning, t.amount_cny_100m * 1e8, t.amount_meaning, t.tenor_years, "
                   "t.coupon_pct, t.issuer_rating, t.bond_rating, true, NULL, t.source_url"),
        "archived summaries of exchange notices", dt.date(2025, 8, 22),
        "7 issues, a format sample, not market-wide"),
    Bundled(
        "kcz_aggregates", "kcz_bonds/kcz_issuance_aggregates_2025.csv",
        InputSpec(
            kind="bond_aggregates", table="bond_aggregates",
            required={"period_start": _DATE, "period_end": _DATE, "scope": _S, "metric": _S,
                      "value": _D, "unit": _S, "reported_by": _S, "source_url": _S},
            key=("period_start", "period_end", "scope", "metric", "reported_by"),
            not_null=("period_start", "period_end", "scope", "metric", "value"),
            select="t.period_start, t.period_end, t.scope, t.metric, t.value, t.unit, "
                   "t.reported_by, t.source_url"),
        "financial media citing Wind", dt.date(2025, 12, 25), "scopes differ; never add rows"),
)
