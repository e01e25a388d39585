"""The bundled real data in the store: provenance, row counts, quirks handled, derived flags."""

from __future__ import annotations

from pathlib import Path

import pytest

from kechuang.data.adjusted import adjusted_bars
from kechuang.data.schema import TABLES
from kechuang.data.store import Store, open_store


@pytest.fixture(scope="module")
def store(bundled_store: Path):  # type: ignore[no-untyped-def]
    with open_store(bundled_store) as s:
        yield s


def test_datasets_record_source_as_of_rows_and_sha(store: Store) -> None:
    ds = store.query("SELECT * FROM datasets").set_index("name")
    assert len(ds) == 23
    assert ds.notna()[["source", "as_of", "row_count", "sha256"]].all().all()
    # Published checksums and counts from the data READMEs.
    assert ds.loc["star_daily_unadj", "sha256"] == (
        "be46cd7f18df55e2d7bfcc3753f838669144ac36d90d13bd9cb06957d76978bf")
    assert ds.loc["star_daily_qfq", "sha256"] == (
        "fab8f3bbc373e23d72282753e189b66d59a914a9574457feb5c48db05a1394ef")
    assert ds.loc["star_daily_unadj", "row_count"] == 537_064
    assert ds.loc["star_daily_qfq", "row_count"] == 247_725
    assert ds.loc["star_shares", "row_count"] == 113_083
    assert ds.loc["star_master", "row_count"] == 606


def test_raw_bars_coverage(store: Store) -> None:
    row = store.query("SELECT count(*) n, count(DISTINCT code) codes, min(date) lo, max(date) hi "
                      "FROM bars_daily WHERE source = 'raw'").iloc[0]
    assert (row.n, row.codes) == (537_064, 589)
    assert str(row.lo)[:10] == "2019-07-22" and str(row.hi)[:10] == "2025-05-23"
    # pre_close (exchange reference) only up to 2022-01-14
    assert str(store.scalar("SELECT max(date) FROM bars_daily WHERE source = 'raw' "
                            "AND pre_close IS NOT NULL")) == "2022-01-14"


def test_volume_units_are_shares_everywhere(store: Store) -> None:
    # star_daily is in (rounded) lots of 100 and is converted: within one lot of raw volume.
    diff = store.scalar("""
        SELECT count(*) FROM bars_daily q JOIN bars_daily r USING (code, date)
        WHERE q.source = 'star_daily_qfq' AND r.source = 'raw'
          AND abs(q.volume - r.volume) > 100""")
    assert diff == 0


def test_keys_are_unique_in_every_table(store: Store) -> None:
    for name, table in TABLES.items():
        key = ", ".join(table.key)
        dup = store.scalar(f"SELECT count(*) - count(DISTINCT ({key})) FROM {name}")
        assert dup == 0, name


def test_bonus_share_gaps_are_flagged_not_limit_moves(store: Store) -> None:
    flags = store.query("SELECT code, date::VARCHAR d, source, kind, value FROM bar_flags")
    raw = flags[flags.source == "raw"]
    # README examples: 688036 125.30 -> 85.91 on 2024-06-07; 688005 bonus on 2025-03-06.
    for code, d in (("688036", "2024-06-07"), ("688005", "2025-03-06")):
        hit = raw[(raw.code == code) & (raw.d == d)]
        assert len(hit) == 1 and hit.kind.iloc[0] == "ex_rights_gap"
    # Moves in the first 5 sessions after listing are never flagged (no limit then).
    early = store.scalar("""
        SELECT count(*) FROM bar_flags f JOIN securities s USING (code)
        JOIN sessions a ON a.date = f.date JOIN sessions b ON b.date = s.list_date
        WHERE a.session_index - b.session_index < 5
          AND f.kind IN ('ex_rights_gap', 'adjustment_gap')""")
    assert early == 0
    # The forward-adjusted file's misplaced factor on 688005 2024-07-10 is found by itself.
    qfq = flags[(flags.source == "star_daily_qfq") & (flags.code == "688005")]
    assert "2024-07-10" in set(qfq.d)


def test_share_glitch_rows_dropped_and_flagged(store: Store) -> None:
    assert store.scalar("SELECT count(*) FROM bar_flags WHERE source = 'shares'") == 10
    assert store.scalar("SELECT count(*) FROM shares WHERE code = '688981' "
                        "AND date = '2021-10-27'") == 0
    smic = store.scalar("SELECT total_shares FROM shares WHERE code = '688981' "
                        "AND date = '2020-07-16'")
    assert smic == 7_136_423_226  # shares README: SMIC on its listing day


def test_units_converted_to_cny(store: Store) -> None:
    # financials README: 688111 FY2019 revenue 157,952 and net profit 40,058 (CNY 10k).
    row = store.query("SELECT revenue, net_profit, net_profit_deducted FROM financials "
                      "WHERE code = '688111' AND period_end = '2019-12-31'").iloc[0]
    assert row.revenue == 157_952 * 1e4 and row.net_profit == 40_058 * 1e4
    assert row.net_profit_deducted == 31_453 * 1e4
    assert store.scalar("SELECT count(*) FROM financials WHERE overseas_revenue IS NOT NULL") > 100


def test_estimated_factors_only_where_unknown(store: Store) -> None:
    est = store.query("SELECT * FROM adjustments WHERE method = 'estimated'")
    assert len(est) > 0 and (est.factor >= 1.05).all()
    # never overwrites a known factor: 688005 2025-03-06 keeps its reconstructed 1.4798
    assert store.scalar("SELECT method FROM adjustments WHERE code = '688005' "
                        "AND ex_date = '2025-03-06'") == "reconstructed_shifted_star_daily"


def test_adjusted_prices_flag_unknown_factors(store: Store) -> None:
    q = adjusted_bars(store, ["688005"], how="qfq")
    h = adjusted_bars(store, ["688005"], how="hfq")
    last = q.iloc[-1]
    assert last.close == pytest.approx(h.iloc[-1].close / h.iloc[-1].adj_factor)
    # Around the 2025-03-06 bonus issue the qfq series has no fake -33% move.
    window = q[(q.date >= "2025-03-05") & (q.date <= "2025-03-06")].close.to_numpy()
    assert abs(window[1] / window[0] - 1) < 0.2
    # 688005's 2022-05-27 event has an unknown factor: every earlier qfq row says so.
    before = q[q.date < "2022-05-27"]
    assert (before.adj_flag == "factor_unknown").all()
    assert (q[q.date >= "2022-05-27"].adj_flag == "").all()
    # hfq: rows from the unknown event on are flagged
    assert (h[h.date >= "2022-05-27"].adj_flag == "factor_unknown").all()


def test_own_detection_agrees_with_published_gap_list(store: Store) -> None:
    """We detect the forward-adjusted file's bad gaps ourselves; the published list
    (star_daily/suspect_price_gaps.csv, not loaded) is only a cross-check. Every published row
    we do not flag falls in the first 5 sessions after listing, where no limit applies: the
    published heuristic counts calendar days and misses that 688615's listing spans the
    National Day holiday."""
    from kechuang.data.bundled import datasets_dir

    published = str(datasets_dir() / "star_daily" / "suspect_price_gaps.csv")
    ours_not_published = store.scalar(f"""
        SELECT count(*) FROM bar_flags f ANTI JOIN
          read_csv('{published}', types = {{'code': 'VARCHAR'}}) p
          ON f.code = p.code AND f.date = p.date
        WHERE f.source = 'star_daily_qfq'""")
    assert ours_not_published == 0
    missed = store.query(f"""
        SELECT p.code, p.date, a.session_index - b.session_index + 1 AS session_no
        FROM read_csv('{published}', types = {{'code': 'VARCHAR'}}) p
        ANTI JOIN bar_flags f ON f.code = p.code AND f.date = p.date
          AND f.source = 'star_daily_qfq'
        JOIN securities s ON s.code = p.code
        JOIN sessions a ON a.date = p.date JOIN sessions b ON b.date = s.list_date""")
    assert len(missed) == 9 and (missed.session_no <= 5).all()
