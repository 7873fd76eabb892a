// The attention explorer's page: asks the local server for attention weights and draws them.
// No network beyond the server that sent this page; plotly.js comes from it too.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { models: [], data: null, text: "", model: "", stack: null, layer: 0, head: 0,
                sortKey: null, sortDescending: true, requestId: 0 };

// white (no weight) to dark blue (all the weight), as matplotlib's "Blues"
const BLUES = [[0, "#f7fbff"], [0.25, "#c6dbef"], [0.5, "#6baed6"], [0.75, "#2171b5"], [1, "#08306b"]];

const METRICS = [
  { key: "entropy", label: "entropy (bits)" },
  { key: "start", label: "[CLS]" },
  { key: "end", label: "[SEP]" },
  { key: "previous", label: "previous token" },
  { key: "itself", label: "itself" },
];

function showError(message) {
  $("error").textContent = message;
  $("error").hidden = !message;
}

function showNotes(data) {
  const notes = data && data.notes ? data.notes : [];
  $("notice").textContent = notes.join(" ");
  $("notice").hidden = notes.length === 0;
  const out = $("output-text");
  out.hidden = !(data && data.output_text);
  out.textContent = data && data.output_text ? `Model output: ${data.output_text}` : "";
}

async function post(body) {
  const response = await fetch("/api/attention", {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  });
  let data;
  try { data = await response.json(); } catch (e) { data = { error: `HTTP ${response.status}` }; }
  if (!response.ok) throw new Error(data.error || `HTTP ${response.status}`);
  return data;
}

async function request(withGrid) {
  const id = ++state.requestId;
  document.body.dataset.busy = "true";
  $("analyze").disabled = true;
  try {
    const data = await post({ model: state.model, text: state.text, stack: state.stack,
                              layer: state.layer, head: state.head, grid: withGrid });
    if (id !== state.requestId) return;  // a newer request has been sent meanwhile
    showError("");
    if (!withGrid && state.data) data.thumbnails = state.data.thumbnails;
    state.data = data;
    state.stack = data.stack; state.layer = data.layer; state.head = data.head;
    render(withGrid);
  } catch (error) {
    if (id === state.requestId) showError(error.message);
  } finally {
    if (id === state.requestId) { document.body.dataset.busy = "false"; $("analyze").disabled = false; }
  }
}

function analyze(event) {
  if (event) event.preventDefault();
  const text = $("text").value;
  if (!text.trim()) { showError("text: expected a sentence, got an empty text; type something first"); return; }
  const modelChanged = state.model !== $("model").value;
  state.text = text; state.model = $("model").value;
  if (modelChanged) { state.stack = null; state.layer = 0; state.head = 0; }
  request(true);
}

function selectHead(layer, head, stack) {
  const stackChanged = stack !== undefined && stack !== state.stack;
  if (stack !== undefined) state.stack = stack;
  if (stackChanged) { state.layer = Math.min(layer, currentStack().num_layers - 1); state.head = Math.min(head, currentStack().num_heads - 1); }
  else { state.layer = layer; state.head = head; }
  request(stackChanged);
}

function currentStack() {
  return state.data.stacks.find((s) => s.id === state.stack) || state.data.stacks[0];
}

function fillSelect(select, count, value, prefix) {
  select.replaceChildren(...Array.from({ length: count }, (_, i) => new Option(`${prefix} ${i}`, String(i))));
  select.value = String(value);
}

function render(withGrid) {
  const data = state.data;
  $("viewer").hidden = false;
  showNotes(data);
  const stack = currentStack();
  $("stack").replaceChildren(...data.stacks.map((s) => new Option(s.label, s.id)));
  $("stack").value = data.stack;
  $("stack").hidden = $("stack-label").hidden = data.stacks.length < 2;
  fillSelect($("layer"), stack.num_layers, data.layer, "layer");
  fillSelect($("head"), stack.num_heads, data.head, "head");
  drawHeatmap(data);
  drawHeadSummary(data);
  if (withGrid) drawGrid(data);
  markGrid();
  drawTable(data);
}

function drawHeatmap(data) {
  const q = data.query_tokens, k = data.key_tokens;
  // positions as coordinates (a sentence may repeat a token), tokens as tick labels
  const custom = q.map((qt, i) => k.map((kt, j) => [i, qt, j, kt]));
  const trace = {
    type: "heatmap", z: data.matrix, x: k.map((_, j) => j), y: q.map((_, i) => i),
    customdata: custom, colorscale: BLUES, zmin: 0,
    hovertemplate: "query %{customdata[0]}: <b>%{customdata[1]}</b><br>" +
                   "key %{customdata[2]}: <b>%{customdata[3]}</b><br>weight %{z:.4f}<extra></extra>",
    colorbar: { title: { text: "weight" } },
  };
  const many = Math.max(q.length, k.length) > 60;
  const layout = {
    title: { text: `${currentStack().label}: layer ${data.layer}, head ${data.head}` },
    xaxis: { tickvals: k.map((_, j) => j), ticktext: k, tickangle: -60, side: "bottom",
             title: { text: "key (attended to)" }, showticklabels: !many },
    yaxis: { tickvals: q.map((_, i) => i), ticktext: q, autorange: "reversed",
             title: { text: "query (attending)" }, showticklabels: !many },
    margin: { l: 110, r: 20, t: 50, b: 110 }, height: Math.max(420, Math.min(900, 24 * q.length + 200)),
  };
  const div = $("heatmap");
  Plotly.react(div, [trace], layout, { displaylogo: false, responsive: true });
  div.dataset.layer = String(data.layer);
  div.dataset.head = String(data.head);
  div.dataset.stack = data.stack;
}

function fmt(value) {
  return value === null || value === undefined ? "–" : value.toFixed(3);
}

function metricLabel(metric) {
  const model = state.models.find((m) => m.id === state.data.model);
  if (metric.key === "start" && model) return `on ${model.start}`;
  if (metric.key === "end" && model) return `on ${model.end}`;
  return metric.label;
}

function drawHeadSummary(data) {
  const s = data.summaries[data.layer][data.head];
  const box = $("head-summary");
  const title = document.createElement("h3");
  title.textContent = `Layer ${data.layer}, head ${data.head}`;
  const list = document.createElement("dl");
  for (const metric of METRICS) {
    const dt = document.createElement("dt"); dt.textContent = metricLabel(metric);
    const dd = document.createElement("dd"); dd.textContent = fmt(s[metric.key]);
    dd.dataset.metric = metric.key;
    list.append(dt, dd);
  }
  box.replaceChildren(title, list);
}

function drawGrid(data) {
  const grid = $("grid");
  const stack = currentStack();
  grid.style.gridTemplateColumns = `3.5rem repeat(${stack.num_heads}, minmax(24px, 72px))`;
  const cells = [document.createElement("span")];
  for (let h = 0; h < stack.num_heads; h++) {
    const label = document.createElement("span"); label.className = "label"; label.textContent = `head ${h}`;
    cells.push(label);
  }
  for (let l = 0; l < stack.num_layers; l++) {
    const label = document.createElement("span"); label.className = "label"; label.textContent = `layer ${l}`;
    cells.push(label);
    for (let h = 0; h < stack.num_heads; h++) {
      const canvas = tile(data.thumbnails[l][h]);
      const s = data.summaries[l][h];
      canvas.title = `layer ${l}, head ${h}: entropy ${fmt(s.entropy)} bits`;
      canvas.dataset.layer = String(l); canvas.dataset.head = String(h);
      canvas.addEventListener("click", () => selectHead(l, h));
      cells.push(canvas);
    }
  }
  grid.replaceChildren(...cells);
}

function tile(matrix) {
  const rows = matrix.length, cols = matrix[0].length;
  const canvas = document.createElement("canvas");
  canvas.width = cols; canvas.height = rows;
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(cols, rows);
  let peak = 1e-9;
  for (const row of matrix) for (const v of row) peak = Math.max(peak, v);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const t = matrix[i][j] / peak, at = 4 * (i * cols + j);  // white -> deep blue
      image.data[at] = 255 - 222 * t; image.data[at + 1] = 255 - 180 * t; image.data[at + 2] = 255 - 80 * t;
      image.data[at + 3] = 255;
    }
  }
  ctx.putImageData(image, 0, 0);
  return canvas;
}

function markGrid() {
  for (const canvas of $("grid").querySelectorAll("canvas")) {
    const on = canvas.dataset.layer === String(state.layer) && canvas.dataset.head === String(state.head);
    canvas.classList.toggle("selected", on);
  }
}

function drawTable(data) {
  const head = document.createElement("tr");
  const columns = [{ key: "layer", label: "layer" }, { key: "head", label: "head" }, ...METRICS];
  for (const column of columns) {
    const th = document.createElement("th");
    th.textContent = column.key === "layer" || column.key === "head" ? column.label : metricLabel(column);
    if (state.sortKey === column.key) th.textContent += state.sortDescending ? " ▼" : " ▲";
    th.addEventListener("click", () => {
      state.sortDescending = state.sortKey === column.key ? !state.sortDescending : true;
      state.sortKey = column.key; drawTable(state.data);
    });
    head.append(th);
  }
  const rows = [];
  data.summaries.forEach((layerRow, l) => layerRow.forEach((s, h) => rows.push({ layer: l, head: h, ...s })));
  if (state.sortKey) {
    const sign = state.sortDescending ? -1 : 1, key = state.sortKey;
    rows.sort((a, b) => sign * ((a[key] ?? -Infinity) - (b[key] ?? -Infinity)));
  }
  const body = rows.map((r) => {
    const tr = document.createElement("tr");
    tr.classList.toggle("selected", r.layer === data.layer && r.head === data.head);
    for (const column of columns) {
      const td = document.createElement("td");
      td.textContent = column.key === "layer" || column.key === "head" ? String(r[column.key]) : fmt(r[column.key]);
      tr.append(td);
    }
    tr.addEventListener("click", () => selectHead(r.layer, r.head));
    return tr;
  });
  $("summaries").tHead.replaceChildren(head);
  $("summaries").tBodies[0].replaceChildren(...body);
}

function step(delta) {
  if (!state.data) return;
  const stack = currentStack();
  let index = state.layer * stack.num_heads + state.head + delta;
  const total = stack.num_layers * stack.num_heads;
  index = (index + total) % total;
  selectHead(Math.floor(index / stack.num_heads), index % stack.num_heads);
}

async function init() {
  $("input-form").addEventListener("submit", analyze);
  $("text").addEventListener("keydown", (e) => { if (e.key === "Enter" && !e.shiftKey) analyze(e); });
  $("layer").addEventListener("change", () => selectHead(Number($("layer").value), state.head));
  $("head").addEventListener("change", () => selectHead(state.layer, Number($("head").value)));
  $("stack").addEventListener("change", () => selectHead(state.layer, state.head, $("stack").value));
  $("prev-head").addEventListener("click", () => step(-1));
  $("next-head").addEventListener("click", () => step(1));
  document.addEventListener("keydown", (e) => {
    if (["TEXTAREA", "SELECT", "INPUT"].includes(document.activeElement.tagName)) return;
    if (e.key === "ArrowRight") step(1);
    if (e.key === "ArrowLeft") step(-1);
  });
  if (typeof Plotly === "undefined") { showError("plotly.min.js did not load from this server"); return; }
  try {
    const response = await fetch("/api/models");
    state.models = (await response.json()).models;
  } catch (error) { showError(`cannot reach the explorer server: ${error.message}`); return; }
  $("model").replaceChildren(...state.models.map((m) => new Option(m.label, m.id)));
  analyze();
}

document.addEventListener("DOMContentLoaded", init);
