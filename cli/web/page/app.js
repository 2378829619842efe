// The search page: one query box, fusion controls per result list, hits explained by per-retriever bars.
"use strict";

const state = { retrievers: [], fusion: {} };
const $ = (selector) => document.querySelector(selector);

function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (key === "class") node.className = value; else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
}

function buildControls(container) {
  const side = container.dataset.side;
  const fusion = state.fusion;
  const method = element("select", { id: `method-${side}` });
  for (const name of ["cc", "rrf"]) method.append(element("option", { value: name }, name === "cc" ? "convex combination" : "RRF"));
  method.value = fusion.method || "cc";
  const norm = element("select", { id: `norm-${side}` });
  for (const name of ["minmax", "zscore", "tmm", "none"]) norm.append(element("option", { value: name }, name));
  norm.value = fusion.norm || "zscore";
  const missing = element("select", { id: `missing-${side}` });
  for (const name of ["exact", "zero", "min"]) missing.append(element("option", { value: name }, name));
  missing.value = fusion.missing || "exact";
  const rrfK = element("input", { id: `rrfk-${side}`, type: "number", min: "0", max: "1000", step: "1", value: String(fusion.rrf_k ?? 60) });
  container.append(element("label", {}, "fusion ", method), element("label", {}, "norm ", norm), element("label", {}, "missing ", missing), element("label", {}, "RRF k ", rrfK));
  const equal = 1 / state.retrievers.length;
  for (const name of state.retrievers) {
    const start = fusion.weights && name in fusion.weights ? fusion.weights[name] : equal;
    const slider = element("input", { type: "range", min: "0", max: "1", step: "0.05", value: String(start), id: `weight-${side}-${name}`, "data-retriever": name });
    const shown = element("span", { class: "weight-value" }, Number(start).toFixed(2));
    slider.addEventListener("input", () => { shown.textContent = Number(slider.value).toFixed(2); });
    slider.addEventListener("change", () => runSearch());
    container.append(element("label", {}, `${name} `, slider, shown));
  }
  for (const control of [method, norm, missing, rrfK]) control.addEventListener("change", () => runSearch());
}

function settings(side) {
  const weights = {};
  for (const slider of document.querySelectorAll(`[id^="weight-${side}-"]`)) weights[slider.dataset.retriever] = Number(slider.value);
  return {
    method: $(`#method-${side}`).value,
    norm: $(`#norm-${side}`).value,
    missing: $(`#missing-${side}`).value,
    rrf_k: Number($(`#rrfk-${side}`).value),
    weights,
  };
}

async function search(side) {
  const body = { query: $("#query").value, k: Number($("#k").value) || 10 };
  if (state.retrievers.length > 1) body.fusion = settings(side);
  const filter = readFilter();
  if (filter !== null) body.filter = filter;
  const response = await fetch("/search", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  const payload = await response.json();
  if (!response.ok) {
    const detail = Array.isArray(payload.detail) ? payload.detail.map((d) => `${d.loc.slice(1).join(".")}: ${d.msg}`).join("; ") : payload.detail;
    throw new Error(`${response.status}: ${detail}`);
  }
  return payload;
}

function readFilter() {
  const text = $("#filter").value.trim();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(`filter: not JSON (${error.message})`);
  }
}

function renderFilter(payload) {
  const info = $("#filter-info");
  info.hidden = !payload.filter;
  if (payload.filter) info.textContent = `filter applied: ${payload.filter.matched.toLocaleString()} of ${payload.filter.documents.toLocaleString()} documents match`;
}

function renderHits(list, payload, other) {
  list.replaceChildren();
  // Each retriever's bar spans its normalized values over the hits shown (z-scores can be negative).
  const low = {}, high = {};
  for (const hit of payload.hits) {
    for (const [name, source] of Object.entries(hit.sources)) {
      low[name] = Math.min(low[name] ?? Infinity, source.normalized);
      high[name] = Math.max(high[name] ?? -Infinity, source.normalized);
    }
  }
  const previous = other ? new Map(other.hits.map((hit) => [hit.doc_id, hit.rank])) : null;
  for (const hit of payload.hits) {
    const bars = element("div", { class: "bars" });
    for (const name of payload.retrievers) {
      const source = hit.sources[name];
      const span = high[name] - low[name];
      const share = !source ? 0 : span > 0 ? 0.05 + 0.95 * (source.normalized - low[name]) / span : 1;
      const bar = element("div", { class: source && source.rank !== null ? "bar" : "bar absent", style: `width:${(100 * share).toFixed(1)}%`, title: `${name}: normalized ${source ? source.normalized.toFixed(4) : "—"}` });
      const label = source && source.rank !== null ? `#${source.rank}, score ${formatScore(source.score)}` : `not retrieved${source && source.score !== null ? `, filled ${formatScore(source.score)}` : ""}`;
      bars.append(element("span", {}, name), element("div", {}, bar), element("span", {}, label));
    }
    let movement = "";
    if (previous) {
      const before = previous.get(hit.doc_id);
      movement = before === undefined ? " new" : before > hit.rank ? ` ▲${before - hit.rank}` : before < hit.rank ? ` ▼${hit.rank - before}` : "";
    }
    const moved = element("span", { class: movement.includes("▲") ? "moved-up" : movement.includes("▼") ? "moved-down" : "new" }, movement);
    list.append(element("li", { class: "hit" },
      element("div", {}, element("span", { class: "title" }, hit.title || hit.doc_id), element("span", { class: "doc-id" }, `${hit.doc_id} · ${hit.score.toFixed(4)}`), moved),
      element("div", { class: "snippet" }, hit.snippet), bars));
  }
}

function formatScore(value) {
  return Math.abs(value) >= 1000 ? value.toFixed(0) : value.toFixed(3);
}

function renderTimings(target, payload) {
  target.textContent = Object.entries(payload.timings_ms).map(([name, ms]) => `${name} ${ms.toFixed(1)} ms`).join(" · ");
}

async function runSearch() {
  if (!$("#query").value.trim()) return;
  $("#error").hidden = true;
  $("#filter-info").hidden = true;
  try {
    if (!$("#compare-tab").hidden) {
      const [left, right] = await Promise.all([search("left"), search("right")]);
      renderHits($("#hits-left"), left, null); renderTimings($("#timings-left"), left);
      renderHits($("#hits-right"), right, left); renderTimings($("#timings-right"), right);
      renderFilter(left);
    } else {
      const payload = await search("main");
      renderHits($("#hits-main"), payload, null); renderTimings($("#timings-main"), payload);
      renderFilter(payload);
    }
  } catch (error) {
    $("#error").textContent = error.message; $("#error").hidden = false;
  }
}

async function start() {
  const health = await (await fetch("/health")).json();
  state.retrievers = health.retrievers; state.fusion = health.fusion;
  $("#index-info").textContent = `${health.index}: ${health.documents.toLocaleString()} documents, ${health.retrievers.join(" + ")}`;
  const fields = Object.entries(health.fields || {});
  $("#filter").placeholder = fields.length
    ? `filter (JSON) on ${fields.map(([name, kind]) => `${name} (${kind})`).join(", ")}, e.g. {"term": {"${fields[0][0]}": …}}`
    : "filter (JSON): this index has no metadata fields";
  for (const container of document.querySelectorAll(".controls")) {
    if (health.retrievers.length > 1) buildControls(container); else container.hidden = true;
  }
  $("#query-form").addEventListener("submit", (event) => { event.preventDefault(); runSearch(); });
  for (const tab of document.querySelectorAll(".tab")) {
    tab.addEventListener("click", () => {
      for (const other of document.querySelectorAll(".tab")) other.classList.toggle("active", other === tab);
      for (const page of document.querySelectorAll(".tab-page")) page.hidden = page.id !== tab.dataset.tab;
      runSearch();
    });
  }
  document.body.dataset.ready = "true";
}

start();
