"""Tables of the store (docs/architecture.md, "Data model"). Column types are DuckDB types; the
key of each table is what upserts replace on. Changing a table means a new migration."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[tuple[str, str], ...]
    key: tuple[str, ...]
    partition: str | None = None  # Hive partition column on Parquet export

    @property
    def column_names(self) -> list[str]:
        return [c for c, _ in self.columns]

    def ddl(self) -> str:
        # The key is enforced by the writers (duplicate keys refused at staging, delete-then-
        # insert on the key), not by a PRIMARY KEY: DuckDB's ART index made bulk loads about
        # 2.4x slower (benchmark W6) and buys nothing a single-writer store needs.
        cols = ", ".join(f"{c} {t}" for c, t in self.columns)
        return f"CREATE TABLE IF NOT EXISTS {self.name} ({cols})"

    def upsert_sql(self, select: str, staged: str, materialize: bool = True) -> list[str]:
        """Statements that upsert the rows of `select` (in table order) on the key: matching
        keys deleted from the store, then the rows inserted. With `materialize` the rows are
        first kept in temp table `staged`, which a select reading the target table needs (the
        delete would change what it reads); a projection of staged input can skip that copy."""
        on = " AND ".join(f"t.{k} IS NOT DISTINCT FROM n.{k}" for k in self.key)
        cols = ", ".join(self.column_names)
        if not materialize:
            rows = f"(SELECT * FROM ({select}) AS x({cols}))"
            return [f"DELETE FROM store.{self.name} t USING {rows} n WHERE {on}",
                    f"INSERT INTO store.{self.name} ({cols}) {select}"]
        return [
            f"CREATE OR REPLACE TEMP TABLE {staged} AS SELECT * FROM ({select}) AS x({cols})",
            f"DELETE FROM store.{self.name} t USING {staged} n WHERE {on}",
            f"INSERT INTO store.{self.name} ({cols}) SELECT * FROM {staged}",
            f"DROP TABLE {staged}",
        ]


def _t(name: str, key: tuple[str, ...], *cols: tuple[str, str], partition: str | None = None
       ) -> Table:
    return Table(name, tuple(cols), key, partition)


TABLES: dict[str, Table] = {t.name: t for t in [
    _t("datasets", ("name",),
       ("name", "VARCHAR"), ("table_name", "VARCHAR"), ("source", "VARCHAR"),
       ("notes", "VARCHAR"), ("as_of", "DATE"), ("row_count", "BIGINT"), ("sha256", "VARCHAR"),
       ("ingested_at", "TIMESTAMP")),
    _t("sessions", ("date",), ("date", "DATE"), ("session_index", "INTEGER")),
    _t("securities", ("code",),
       ("code", "VARCHAR"), ("name", "VARCHAR"), ("board", "VARCHAR"), ("area", "VARCHAR"),
       ("list_date", "DATE"), ("delist_date", "DATE"), ("status", "VARCHAR"),
       ("industry", "VARCHAR"), ("cluster", "VARCHAR"), ("listing_standard", "VARCHAR"),
       ("flag_u", "BOOLEAN"), ("flag_w", "BOOLEAN"), ("flag_v", "BOOLEAN"), ("flag_d", "BOOLEAN"),
       ("growth_tier_from", "DATE"), ("source", "VARCHAR")),
    _t("name_history", ("code", "name", "first_seen"),
       ("code", "VARCHAR"), ("name", "VARCHAR"), ("status", "VARCHAR"), ("first_seen", "DATE"),
       ("last_seen", "DATE"), ("n_snapshots", "INTEGER")),
    # source tells the series apart: 'raw' is the primary unadjusted history; adjusted vendor
    # files are kept as second sources, never mixed into 'raw'.
    _t("bars_daily", ("code", "date", "source"),
       ("code", "VARCHAR"), ("date", "DATE"), ("open", "DOUBLE"), ("high", "DOUBLE"),
       ("low", "DOUBLE"), ("close", "DOUBLE"), ("pre_close", "DOUBLE"), ("volume", "DOUBLE"),
       ("amount", "DOUBLE"), ("adjustment", "VARCHAR"), ("source", "VARCHAR"),
       ("origin", "VARCHAR"), partition="year"),
    _t("adjustments", ("code", "ex_date"),
       ("code", "VARCHAR"), ("ex_date", "DATE"), ("factor", "DOUBLE"), ("method", "VARCHAR"),
       ("prev_close", "DOUBLE"), ("pre_close", "DOUBLE"), ("source", "VARCHAR")),
    _t("bar_flags", ("code", "date", "source", "kind"),
       ("code", "VARCHAR"), ("date", "DATE"), ("source", "VARCHAR"), ("kind", "VARCHAR"),
       ("value", "DOUBLE"), ("detail", "VARCHAR")),
    _t("shares", ("code", "date"),
       ("code", "VARCHAR"), ("date", "DATE"), ("total_shares", "DOUBLE"),
       ("float_shares", "DOUBLE"), ("free_float_ratio", "DOUBLE"), ("total_mv", "DOUBLE"),
       ("float_mv", "DOUBLE"), ("source", "VARCHAR")),
    # Amounts in CNY (the bundled statements are in CNY 10k and converted on ingest).
    _t("financials", ("code", "period_end"),
       ("code", "VARCHAR"), ("period_end", "DATE"), ("revenue", "DOUBLE"),
       ("net_profit", "DOUBLE"), ("net_profit_deducted", "DOUBLE"), ("rd_expense", "DOUBLE"),
       ("rd_investment", "DOUBLE"), ("cfo", "DOUBLE"), ("cfi", "DOUBLE"), ("cff", "DOUBLE"),
       ("overseas_revenue", "DOUBLE"), ("gross_profit", "DOUBLE"), ("operating_profit", "DOUBLE"),
       ("total_assets", "DOUBLE"), ("total_liabilities", "DOUBLE"), ("equity_parent", "DOUBLE"),
       ("eps_basic", "DOUBLE"), ("roe_weighted_pct", "DOUBLE"), ("source", "VARCHAR")),
    _t("revenue_segments", ("code", "report_date", "breakdown", "segment"),
       ("code", "VARCHAR"), ("report_date", "DATE"), ("breakdown", "VARCHAR"),
       ("segment", "VARCHAR"), ("revenue", "DOUBLE"), ("cost", "DOUBLE"),
       ("gross_margin_pct", "DOUBLE"), ("region_class", "VARCHAR")),
    _t("index_levels", ("index_code", "date"),
       ("index_code", "VARCHAR"), ("date", "DATE"), ("open", "DOUBLE"), ("high", "DOUBLE"),
       ("low", "DOUBLE"), ("close", "DOUBLE"), ("volume", "DOUBLE"), ("source", "VARCHAR")),
    _t("index_valuation", ("index_code", "date", "source"),
       ("index_code", "VARCHAR"), ("date", "DATE"), ("close", "DOUBLE"), ("pe", "DOUBLE"),
       ("pe_ttm", "DOUBLE"), ("pb", "DOUBLE"), ("ps", "DOUBLE"), ("total_mv", "DOUBLE"),
       ("source", "VARCHAR")),
    _t("index_members", ("index_code", "effective_date", "code"),
       ("index_code", "VARCHAR"), ("effective_date", "DATE"), ("code", "VARCHAR"),
       ("name", "VARCHAR"), ("weight_factor", "DOUBLE"), ("source", "VARCHAR")),
    _t("index_weights_reported", ("index_code", "reported_on", "code"),
       ("index_code", "VARCHAR"), ("reported_on", "DATE"), ("code", "VARCHAR"),
       ("rank", "INTEGER"), ("weight_pct", "DOUBLE"), ("source_url", "VARCHAR")),
    _t("index_methodology", ("index_code", "item"),
       ("index_code", "VARCHAR"), ("item", "VARCHAR"), ("value", "VARCHAR"),
       ("note", "VARCHAR"), ("source_url", "VARCHAR")),
    _t("funds", ("code",), ("code", "VARCHAR"), ("name", "VARCHAR"), ("first_date", "DATE"),
       ("last_date", "DATE")),
    # Fund volume in units (the source's lots of 100 are converted on ingest).
    _t("fund_bars", ("code", "date"),
       ("code", "VARCHAR"), ("date", "DATE"), ("open", "DOUBLE"), ("high", "DOUBLE"),
       ("low", "DOUBLE"), ("close", "DOUBLE"), ("volume", "DOUBLE"), ("amount", "DOUBLE"),
       ("adjustment", "VARCHAR")),
    # Yields in percent per annum, long format: one row per (curve, tenor, date).
    _t("rates", ("curve", "tenor", "date"),
       ("curve", "VARCHAR"), ("tenor", "VARCHAR"), ("date", "DATE"), ("yield_pct", "DOUBLE")),
    # bond_id is the exchange code where the source gives one, else the bond's full name.
    _t("bonds", ("bond_id",),
       ("bond_id", "VARCHAR"), ("bond_code", "VARCHAR"), ("bond_name", "VARCHAR"),
       ("issuer", "VARCHAR"), ("issuer_type", "VARCHAR"), ("exchange", "VARCHAR"),
       ("issue_date", "DATE"), ("date_meaning", "VARCHAR"), ("amount", "DOUBLE"),
       ("amount_meaning", "VARCHAR"), ("tenor_years", "DOUBLE"), ("coupon_pct", "DOUBLE"),
       ("rating", "VARCHAR"), ("bond_rating", "VARCHAR"), ("is_sci_tech", "BOOLEAN"),
       ("market_making", "BOOLEAN"), ("source_url", "VARCHAR")),
    _t("bond_aggregates", ("period_start", "period_end", "scope", "metric", "reported_by"),
       ("period_start", "DATE"), ("period_end", "DATE"), ("scope", "VARCHAR"),
       ("metric", "VARCHAR"), ("value", "DOUBLE"), ("unit", "VARCHAR"),
       ("reported_by", "VARCHAR"), ("source_url", "VARCHAR")),
]}
