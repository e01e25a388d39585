"""The dashboard in a real headless Chromium (the Debian `chromium` package, driven by
Playwright through `executable_path`): every page loads without console errors and without a
request leaving the local server, the backtest form runs a strategy and its charts appear, and a
report file works offline from disk. Screenshots go to artifacts/screenshots/."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]

PAGES = [("/", "overview", "#fig-star50 .main-svg"),
         ("/index", "index", "#fig-level .main-svg"),
         ("/breadth", "breadth", "#fig-above_ma .main-svg"),
         ("/backtest", "backtest_form", "#bt-strategy option"),
         ("/sweep", "sweep", "#fig-sweep .main-svg"),
         ("/screen", "screen", "#sc-table table"),
         ("/listing", "listing", "#ls-out table"),
         ("/bonds", "bonds", "#bd-out table"),
         ("/board-report", "board_report", "table")]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        raise RuntimeError("Chromium is not installed: apt-get install chromium (.ci/run does)")
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield b
        b.close()


class Watch:
    """Console errors, page errors and requests of one page."""

    def __init__(self, page: Any, base: str) -> None:
        self.errors: list[str] = []
        self.foreign: list[str] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("request", lambda r: None if r.url.startswith((base, "data:", "file:"))
                else self.foreign.append(r.url))


@pytest.mark.parametrize("path,name,selector", PAGES, ids=[p[1] for p in PAGES])
def test_page_loads_without_console_errors(browser: Any, live_server: str, path: str,
                                           name: str, selector: str) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    watch = Watch(page, live_server)
    page.goto(live_server + path)
    if path != "/board-report":
        page.wait_for_selector('body[data-ready="1"]', timeout=60_000)
    page.wait_for_selector(selector, timeout=60_000, state="attached")
    page.wait_for_timeout(300)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    assert watch.errors == []
    assert watch.foreign == []
    assert page.locator(".err").evaluate_all("els => els.map(e => e.textContent.trim())"
                                             ) in ([], [""] * page.locator(".err").count())
    page.close()


def test_backtest_form_runs_a_strategy_and_draws_its_charts(browser: Any,
                                                            live_server: str) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    watch = Watch(page, live_server)
    page.goto(live_server + "/backtest")
    page.wait_for_selector('body[data-ready="1"]', timeout=60_000)
    page.select_option("#bt-strategy", "ma_cross")
    page.fill("#bt-codes", "688111")
    page.fill('input[name="p_fast"]', "5")
    page.fill('input[name="p_slow"]', "20")
    page.fill('input[name="start"]', "2020-01-02")
    page.click("#bt-run")
    page.wait_for_selector("#fig-equity .main-svg", timeout=30_000)
    page.wait_for_selector("#fig-blocked .main-svg", timeout=30_000)
    meta = page.inner_text("#bt-meta")
    assert "ma_cross on 688111 金山办公" in meta
    stats = page.inner_text("#bt-stats")
    assert "first session" in stats and "2020-01-02" in stats
    assert page.locator("#fig-equity .scatterlayer .trace").count() == 2  # strategy, STAR 50
    page.wait_for_timeout(300)
    page.screenshot(path=str(SHOTS / "backtest_result.png"), full_page=True)
    # a bad parameter shows the API's one-line error naming the field
    page.fill('input[name="p_slow"]', "-1")
    page.click("#bt-run")
    page.wait_for_function("document.getElementById('bt-err').textContent.length > 0",
                           timeout=10_000)
    assert "params.slow" in page.inner_text("#bt-err")
    assert [e for e in watch.errors if "422" not in e] == []
    assert watch.foreign == []
    page.close()


def test_report_file_works_offline(browser: Any, bundled_store: Path, tmp_path: Path) -> None:
    from kechuang.api import dashboard as dash
    from kechuang.reports import tearsheet

    res = dash.run_backtest("dca", ["588000"], db=bundled_store)
    rep = tearsheet.build(res, dash.benchmark(bundled_store), dash.names(bundled_store))
    html = rep.write(tmp_path, "bt_dca", png=False)[-1]
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    watch = Watch(page, "file://")
    page.goto(html.as_uri())
    page.wait_for_selector("#fig-monthly .main-svg", timeout=30_000)
    assert page.locator(".main-svg").count() >= 6
    page.screenshot(path=str(SHOTS / "report_tearsheet_dca.png"), full_page=True)
    assert watch.errors == [] and watch.foreign == []
    page.close()


def test_sweep_form_switches_axes_with_the_strategy(browser: Any, live_server: str) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    watch = Watch(page, live_server)
    page.goto(live_server + "/sweep")
    page.wait_for_selector("#fig-sweep .main-svg", timeout=60_000)
    page.select_option("#sw-strategy", "grid")
    assert page.input_value('input[name="xname"]') == "band"
    page.click('#sw-form button[type="submit"]')
    page.wait_for_function("document.getElementById('sw-meta').textContent.includes('band=')",
                           timeout=30_000)
    assert "20 runs" in page.inner_text("#sw-meta")
    assert "over band × max_units" in page.inner_text("#fig-sweep")
    page.screenshot(path=str(SHOTS / "sweep_grid.png"), full_page=True)
    assert watch.errors == [] and watch.foreign == []
    page.close()


def test_backtest_lab_core_satellite_shows_leg_correlations(browser: Any, live_server: str
                                                            ) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    watch = Watch(page, live_server)
    page.goto(live_server + "/backtest")
    page.wait_for_selector('body[data-ready="1"]', timeout=60_000)
    page.select_option("#bt-strategy", "core_satellite")
    assert page.input_value("#bt-codes") == ""  # the strategy brings its own ETFs
    page.click("#bt-run")
    page.wait_for_selector("#bt-corr table", timeout=30_000)
    assert "518880" in page.inner_text("#bt-corr")
    page.wait_for_selector("#fig-value .main-svg", timeout=30_000)
    page.wait_for_timeout(300)
    page.screenshot(path=str(SHOTS / "backtest_core_satellite.png"), full_page=True)
    assert watch.errors == [] and watch.foreign == []
    page.close()
