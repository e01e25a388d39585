// kechuang dashboard: fills the pages from the JSON API under /api/ and draws its Plotly figures.
"use strict";

const $ = (id) => document.getElementById(id);
const esc = (s) => String(s === null || s === undefined ? "" : s)
  .replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
const num = (v, d = 2) => (v === null || v === undefined || Number.isNaN(v)) ? "n/a"
  : Number(v).toLocaleString("en-US", {minimumFractionDigits: d, maximumFractionDigits: d});
const pct = (v, d = 2) => (v === null || v === undefined) ? "n/a" : num(100 * v, d) + "%";
const cny = (v) => (v === null || v === undefined) ? "n/a" : "¥" + num(v, 2);
const label = (c) => c.name ? `${c.code} ${c.name}` : c.code;

async function api(path, body) {
  const opt = body === undefined ? {} : {method: "POST", headers: {"Content-Type": "application/json"},
                                        body: JSON.stringify(body)};
  const r = await fetch(path, opt);
  const data = await r.json();
  if (!r.ok) {
    const d = data.detail;
    const msg = Array.isArray(d) ? d.map((e) => `${(e.loc || []).join(".")}: ${e.msg}`).join("\n")
      : String(d);
    throw new Error(`${r.status}: ${msg}`);
  }
  return data;
}

function plot(id, fig) {
  const el = $(id);
  if (!el || !fig) return;
  el.style.display = "";
  Plotly.react(el, fig.data, fig.layout, {responsive: true, displaylogo: false});
}

function plotAll(figs) {
  for (const [k, f] of Object.entries(figs || {})) plot("fig-" + k, f);
}

function table(cols, rows, numeric) {
  const head = cols.map((c) => `<th>${esc(c)}</th>`).join("");
  const body = rows.map((r) => "<tr>" + r.map((v, i) =>
    `<td${numeric && numeric[i] ? ' class="num"' : ""}>${esc(v)}</td>`).join("") + "</tr>").join("");
  return `<table class="tbl"><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

function showError(id, e) {
  const el = $(id);
  if (el) el.textContent = e.message || String(e);
}

function formObj(form) {
  const o = {};
  for (const [k, v] of new FormData(form).entries()) o[k] = String(v).trim();
  return o;
}

const codesOf = (s) => s ? s.split(/[\s,]+/).filter((x) => x) : null;

// ---------------------------------------------------------------- overview
async function overview() {
  const d = await api("/api/overview");
  const s = d.star50;
  if (s.error) $("ov-star50").innerHTML = `<h3>科创50 STAR 50</h3><p class="err">${esc(s.error)}</p>`;
  else {
    const cls = s.change >= 0 ? "up" : "down";
    $("ov-star50").innerHTML = `<h3>科创50 STAR 50 (000688), ${esc(s.date)}</h3>
      <div class="big ${cls}">${num(s.close, 2)}</div>
      <div class="${cls}">${s.change >= 0 ? "+" : ""}${num(s.change, 2)}
      (${s.change >= 0 ? "+" : ""}${num(s.change_pct, 2)}%) on the previous session</div>
      <p class="note">${esc(s.source)}</p>`;
    plot("fig-star50", s.figure);
  }
  const b = d.breadth;
  if (b.error) $("ov-breadth").innerHTML = `<h3>Breadth</h3><p class="err">${esc(b.error)}</p>`;
  else {
    const l = b.latest;
    const rows = [["advancers 上涨", l.advancers], ["decliners 下跌", l.decliners],
      ["unchanged 平盘", l.unchanged], ["limit-up 涨停", l.limit_up], ["limit-down 跌停", l.limit_down],
      ["broken limit 炸板", l.broken_limit], ["new 250-session highs", l.new_highs],
      ["new 250-session lows", l.new_lows], ["McClellan oscillator", num(l.mcclellan_osc, 1)],
      ["% above MA20", num(l.pct_above_ma20, 1)]];
    $("ov-breadth").innerHTML = `<h3>Breadth, ${esc(b.last)} (${esc(b.universe)}, ${l.n_members} stocks)</h3>`
      + table(["", "value"], rows, [false, true]);
  }
  const c = d.board;
  if (c.error) $("ov-board").innerHTML = `<h3>Board snapshot</h3><p class="err">${esc(c.error)}</p>`;
  else {
    const rows = c.figures.filter((f) => typeof f.value !== "object" || f.value === null).slice(0, 10)
      .map((f) => [f.label, typeof f.value === "number" ? num(f.value, Number.isInteger(f.value) ? 0 : 2) + (f.unit ? " " + f.unit : "") : (f.value === null ? "insufficient data" : f.value), f.as_of]);
    $("ov-board").innerHTML = `<h3>${esc(c.title)}</h3>` + table(["figure", "value", "as of"], rows, [false, true, false])
      + `<p class="note">source: ${esc(c.figures.length ? c.figures[0].dataset : "")}</p>`;
  }
  $("ov-meta").textContent = "Data from the local store; every figure with its as-of date.";
}

// ---------------------------------------------------------------- index
async function indexPage() {
  const d = await api("/api/index");
  $("ix-meta").textContent = `${d.name} (${d.index}) rebuilt ${d.first} to ${d.last}; last level ${num(d.level)}`;
  plotAll(d.figures);
  const rows = Object.entries(d.fidelity).map(([k, f]) => [k, `${f.from} to ${f.to}`, f.sessions,
    num(f.return_corr, 4), pct(f.tracking_error_ann), num(f.max_daily_dev_bp, 1) + " bp", pct(f.end_level_gap)]);
  $("ix-fid").innerHTML = table(["window", "dates", "sessions", "daily-return correlation",
    "tracking error (ann.)", "largest daily deviation", "level gap at end"], rows,
    [false, false, true, true, true, true, true]);
  $("ix-rally-h").textContent = `Broad rallies: ${d.rally_rule}`;
  $("ix-rally").innerHTML = table(["date", "index return", "constituents down", "top contributor",
    "its contribution"], d.rally_days.map((x) => [x.date, pct(x.index_return),
    `${x.n_fell} of ${x.n_constituents}`, x.top_contributor, pct(x.top_contribution)]),
    [false, true, true, false, true]);
  $("ix-weights").innerHTML = table(["#", "code", "name 简称", "weight"],
    d.weights.map((w, i) => [i + 1, w.code, w.name, pct(w.weight)]), [true, false, false, true]);
  if (d.review) {
    const r = d.review;
    const n = Math.max(r.entrants.length, r.leavers.length);
    const rows2 = [];
    for (let i = 0; i < n; i++) rows2.push([r.entrants[i] ? label(r.entrants[i]) : "", r.leavers[i] ? label(r.leavers[i]) : ""]);
    $("ix-review").innerHTML = `<h2>Next review, effective ${esc(r.next_review)} (data as of ${esc(r.as_of)})</h2>`
      + table(["expected entrants 预计调入", "expected leavers 预计调出"], rows2);
  }
  $("ix-notes").innerHTML = d.notes.map((n) => `<li>${esc(n)}</li>`).join("");
}

// ---------------------------------------------------------------- breadth
async function breadthPage() {
  const form = $("br-form");
  const load = async () => {
    const o = formObj(form);
    const q = new URLSearchParams({universe: o.universe, figures: "true"});
    if (o.start) q.set("start", o.start);
    if (o.end) q.set("end", o.end);
    $("br-busy").textContent = "computing…";
    $("br-err").textContent = "";
    try {
      const d = await api("/api/breadth?" + q.toString());
      $("br-meta").textContent = `${d.universe}: ${d.first} to ${d.last}, ${d.sessions} sessions`;
      plotAll(d.figures);
      $("br-notes").innerHTML = d.notes.map((n) => `<li>${esc(n)}</li>`).join("");
    } catch (e) { showError("br-err", e); }
    $("br-busy").textContent = "";
  };
  form.addEventListener("submit", (ev) => { ev.preventDefault(); load(); });
  await load();
}

// ---------------------------------------------------------------- backtest lab
let STRATS = {};

function paramInputs(name, holder, skip) {
  const s = STRATS[name];
  holder.innerHTML = "";
  for (const [k, p] of Object.entries(s.params)) {
    if (skip && skip.includes(k)) continue;
    const v = p.default === null || p.default === undefined ? "" :
      (typeof p.default === "object" ? JSON.stringify(p.default) : String(p.default));
    const ph = p.required ? 'placeholder="required"' : "";
    holder.insertAdjacentHTML("beforeend",
      `<label>${esc(k)}<input name="p_${esc(k)}" data-param="${esc(k)}" value="${esc(v)}" ${ph} size="10"></label>`);
  }
}

function readParams(form) {
  const params = {};
  for (const el of form.querySelectorAll("[data-param]")) {
    const k = el.dataset.param, v = el.value.trim();
    if (v === "") continue;
    if (v.startsWith("{")) params[k] = JSON.parse(v);
    else if (v === "true" || v === "false") params[k] = v === "true";
    else if (!Number.isNaN(Number(v))) params[k] = Number(v);
    else params[k] = v;
  }
  return params;
}

async function loadStrategies(select) {
  STRATS = await api("/api/strategies");
  select.innerHTML = Object.keys(STRATS).map((n) => `<option>${esc(n)}</option>`).join("");
}

async function backtestPage() {
  const form = $("bt-form"), sel = $("bt-strategy");
  await loadStrategies(sel);
  sel.value = "ma_cross";
  const onStrategy = () => {
    const s = STRATS[sel.value];
    paramInputs(sel.value, $("bt-params"));
    $("bt-doc").textContent = s.doc;
    if (s.universe) $("bt-codes").value = "";
    else if (!$("bt-codes").value) $("bt-codes").value = sel.value === "dca" ? "588000" : "688981";
  };
  sel.addEventListener("change", onStrategy);
  onStrategy();
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const o = formObj(form);
    $("bt-err").textContent = "";
    $("bt-busy").textContent = "running…";
    try {
      const body = {strategy: o.strategy, codes: codesOf(o.codes), rules: o.rules, fill: o.fill,
                    params: readParams(form)};
      if (o.start) body.start = o.start;
      if (o.end) body.end = o.end;
      const t0 = performance.now();
      const d = await api("/api/backtest", body);
      $("bt-out").style.display = "";
      $("bt-meta").textContent = `${d.strategy} on ${d.codes.map(label).join(", ")} · ${d.n_fills} fills · `
        + `answered in ${Math.round(performance.now() - t0)} ms · amounts in CNY`;
      plot("fig-monthly", null);
      if (!d.figures.monthly) $("fig-monthly").style.display = "none";
      plotAll(d.figures);
      $("bt-stats").innerHTML = table(["statistic", "value"], d.stats_table, [false, true]);
      const c = d.correlation_table;
      $("bt-corr").innerHTML = c.length ? "<h2>Correlation of the legs' daily returns</h2>"
        + table(c[0], c.slice(1), c[0].map((_, i) => i > 0)) : "";
    } catch (e) { showError("bt-err", e); }
    $("bt-busy").textContent = "";
  });
}

// ---------------------------------------------------------------- sweep
async function sweepPage() {
  const form = $("sw-form");
  const sel = $("sw-strategy");
  await loadStrategies(sel);
  sel.value = "ma_cross";
  const nums = (s) => s.split(/[\s,]+/).filter((x) => x).map(Number);
  const presets = {ma_cross: [["fast", "5,10,15,20,30"], ["slow", "40,60,90,120,250"]],
    grid: [["band", "0.01,0.02,0.03,0.05,0.08"], ["max_units", "2,5,10,20"]],
    dca: [["amount", "500,1000,2000"], ["every", "0,5,20"]]};
  sel.addEventListener("change", () => {
    let axes = presets[sel.value];
    if (!axes) {  // the first two numeric parameters, around their defaults
      const p = Object.entries(STRATS[sel.value].params)
        .filter(([k, v]) => typeof v.default === "number" && !["cash", "capital"].includes(k));
      axes = p.slice(0, 2).map(([k, v]) => [k, [0.5, 1, 1.5].map((f) =>
        Number.isInteger(v.default) ? Math.max(1, Math.round(v.default * f)) : +(v.default * f).toFixed(4)).join(",")]);
    }
    if (axes.length > 0) { form.xname.value = axes[0][0]; form.xvalues.value = axes[0][1]; }
    if (axes.length > 1) { form.yname.value = axes[1][0]; form.yvalues.value = axes[1][1]; }
    if (sel.value === "dca") form.codes.value = "588000";
    else if (STRATS[sel.value].universe) form.codes.value = "";
    else if (!form.codes.value) form.codes.value = "688981";
  });
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const o = formObj(form);
    $("sw-err").textContent = "";
    $("sw-busy").textContent = "running…";
    try {
      const t0 = performance.now();
      const d = await api("/api/sweep", {strategy: o.strategy, codes: codesOf(o.codes), stat: o.stat,
        x: {name: o.xname, values: nums(o.xvalues)}, y: {name: o.yname, values: nums(o.yvalues)}});
      plot("fig-sweep", d.figure);
      const b = d.best;
      $("sw-meta").textContent = `${d.n_runs} runs in ${Math.round(performance.now() - t0)} ms`
        + (b ? `; best ${d.stat}: ${num(b[d.stat], 3)} at ${d.x}=${b[d.x]}, ${d.y}=${b[d.y]}` : "");
    } catch (e) { showError("sw-err", e); }
    $("sw-busy").textContent = "";
  });
  form.requestSubmit();
}

// ---------------------------------------------------------------- screen
async function screenPage() {
  const form = $("sc-form");
  const load = async () => {
    const o = formObj(form);
    const q = new URLSearchParams();
    if (o.as_of) q.set("as_of", o.as_of);
    if (o.codes) q.set("codes", codesOf(o.codes).join(","));
    $("sc-err").textContent = "";
    $("sc-busy").textContent = "screening…";
    try {
      const d = await api("/api/screen?" + q.toString());
      $("sc-meta").textContent = `${d.rows} companies listed on ${d.as_of}` + (d.rows > d.table.length ? ` (first ${d.table.length} shown)` : "");
      const cols = d.columns;
      $("sc-table").innerHTML = table(cols, d.table.map((r) => cols.map((c) =>
        typeof r[c] === "number" ? num(r[c], Math.abs(r[c]) >= 1000 ? 0 : 2) : r[c])));
    } catch (e) { showError("sc-err", e); }
    $("sc-busy").textContent = "";
  };
  form.addEventListener("submit", (ev) => { ev.preventDefault(); load(); });
  await load();
}

// ---------------------------------------------------------------- listing checker
async function listingPage() {
  const form = $("ls-form");
  const run = async () => {
    const o = formObj(form);
    const n = (k) => o[k] === "" || o[k] === undefined ? undefined : Number(o[k]);
    const body = {date: o.date, market_value: n("market_value"), revenue: n("revenue"),
      revenue_3y: n("revenue_3y"), rd_3y: n("rd_3y"), cfo_3y: n("cfo_3y"),
      industry: o.industry || undefined, red_chip: o.red_chip === "true", wvr: o.wvr === "true"};
    if (o.np0 && o.np1) body.net_profit = [Number(o.np0), Number(o.np1)];
    if (o.npd0 && o.npd1) body.net_profit_deducted = [Number(o.npd0), Number(o.npd1)];
    $("ls-err").textContent = "";
    try {
      const d = await api("/api/listing/check", body);
      const rows = d.results.map((r) => [r.test, r.status, r.reason,
        (r.comparisons || []).map((c) => `${c.field} ${c.op} ${c.threshold}: ${c.ok ? "yes" : "no"}`).join("; ")]);
      $("ls-out").innerHTML = `<h2>Eligible: ${esc(d.eligible)} (${esc(d.route)}), rules as of ${esc(d.date)}</h2>`
        + table(["test", "status", "reason", "numbers compared"], rows)
        + `<ul class="note">${(d.notes || []).map((x) => `<li>${esc(x)}</li>`).join("")}</ul>`;
    } catch (e) { showError("ls-err", e); }
  };
  form.addEventListener("submit", (ev) => { ev.preventDefault(); run(); });
  await run();
}

// ---------------------------------------------------------------- bonds
const fmtNum = (b) => typeof b === "number" ? num(b, Number.isInteger(b) ? 0 : 2) : b;

function fmtValue(v, unit) {
  if (v === null || v === undefined) return "insufficient data";
  if (typeof v === "number") return fmtNum(v) + (unit ? " " + unit : "");
  if (Array.isArray(v)) return `${v.length} rows`;
  if (typeof v === "object") return Object.entries(v).map(([k, x]) =>
    `${k}: ${typeof x === "object" && x !== null ? Object.entries(x).map(([a, b]) => `${a} ${fmtNum(b)}`).join(", ") : fmtNum(x)}`).join("; ");
  return String(v);
}

async function bondsPage() {
  const d = await api("/api/bonds");
  let h = "";
  for (const s of d.sections) {
    h += `<h2>${esc(s.title)}</h2>` + table(["figure", "value", "as of", "dataset"],
      s.figures.map((f) => [f.label, fmtValue(f.value, f.unit), f.as_of, f.dataset]));
    for (const f of s.figures) {
      if (!Array.isArray(f.value) || !f.value.length || typeof f.value[0] !== "object") continue;
      const cols = Object.keys(f.value[0]);
      h += `<p><b>${esc(f.label)}</b> <span class="note">(as of ${esc(f.as_of)})</span></p>`
        + `<div class="scroll">` + table(cols, f.value.slice(0, 60).map((r) => cols.map((c) => fmtNum(r[c])))) + "</div>";
    }
    if (s.gaps.length) h += "<ul class=\"note\">" + s.gaps.map((g) => `<li>${esc(g.item)}: ${esc(g.reason)}</li>`).join("") + "</ul>";
  }
  $("bd-out").innerHTML = h;
  $("bd-meta").textContent = "Issue-level statistics and the reported aggregates (never added across windows).";
}

const PAGES = {overview, index: indexPage, breadth: breadthPage, backtest: backtestPage,
  sweep: sweepPage, screen: screenPage, listing: listingPage, bonds: bondsPage};

window.addEventListener("DOMContentLoaded", () => {
  const key = document.body.dataset.page;
  const errId = {overview: "ov-meta", index: "ix-meta", bonds: "bd-err"}[key];
  PAGES[key]().then(() => { document.body.dataset.ready = "1"; })
    .catch((e) => { if (errId) showError(errId, e); document.body.dataset.ready = "error"; });
});
