// The attention explorer's page: asks the local server for attention weights and draws them.
// No network beyond the server that sent this page; plotly.js comes from it too.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { models: [], data: null, text: "", model: "", stack: null, layer: 0, head: 0,
                query: null, sortKey: null, sortDescending: true, requestId: 0, qkId: 0, nextId: 0 };

// viridis: dark violet (no weight) to yellow (all the weight), readable with colour-vision
// deficiencies and in greyscale (perceptually uniform, lightness rises with the weight)
const VIRIDIS = [[0, [68, 1, 84]], [0.25, [59, 82, 139]], [0.5, [33, 145, 140]], [0.75, [94, 201, 98]],
                 [1, [253, 231, 37]]];

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

async function post(body, path = "/api/attention") {
  const response = await fetch(path, {
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
  state.query = null;
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
  fillQueries(data);
  drawQueryKey();
  const model = state.models.find((m) => m.id === data.model);
  $("next-token-panel").hidden = !(model && model.predicts_next_token);
  if (model && model.predicts_next_token) drawNextToken();
}

function fillQueries(data) {
  const q = data.query_tokens;
  // a language model's last position is the one that predicts the next token
  if (state.query === null || state.query >= q.length) state.query = data.model === "gpt" ? q.length - 1 : 0;
  $("query").replaceChildren(...q.map((t, i) => new Option(`${i}: ${t}`, String(i))));
  $("query").value = String(state.query);
}

// The query/key ("neuron") view: q, every k, q*k per dimension, q.k, / sqrt(d_k), softmax.
async function drawQueryKey() {
  const id = ++state.qkId;
  const panel = $("qk-panel");
  panel.dataset.ready = "false";
  let v;
  try {
    v = await post({ model: state.model, text: state.text, stack: state.stack, layer: state.layer,
                     head: state.head, query: state.query }, "/api/query-key");
  } catch (error) { if (id === state.qkId) showError(error.message); return; }
  if (id !== state.qkId) return;
  const dims = v.q.map((_, d) => d);
  const keys = v.key_tokens.map((t, j) => `${j}: ${t}`);
  const diverging = "Cividis";  // colour-blind safe; 0 at its middle
  Plotly.react($("qk-vectors"), [{
    type: "heatmap", z: [v.q, ...v.k], x: dims, y: [`q (${v.query}: ${v.query_token})`, ...keys.map((k) => `k ${k}`)],
    colorscale: diverging, zmid: 0, colorbar: { title: { text: "value" } },
    hovertemplate: "%{y}<br>dimension %{x}: %{z:.3f}<extra></extra>",
  }], { title: { text: `query and key vectors (d_k = ${v.d_k})` }, yaxis: { autorange: "reversed", automargin: true },
        xaxis: { title: { text: "dimension" } }, margin: { t: 40, b: 40 }, height: Math.max(220, 16 * v.k.length + 120) },
  { displaylogo: false, responsive: true });
  Plotly.react($("qk-products"), [{
    type: "heatmap", z: v.products, x: dims, y: keys, colorscale: diverging, zmid: 0,
    colorbar: { title: { text: "q·k" } },
    hovertemplate: "key %{y}<br>dimension %{x}: q×k = %{z:.3f}<extra></extra>",
  }], { title: { text: "elementwise products q × k (each row sums to the dot product)" },
        yaxis: { autorange: "reversed", automargin: true }, xaxis: { title: { text: "dimension" } },
        margin: { t: 40, b: 40 }, height: Math.max(220, 16 * v.k.length + 100) },
  { displaylogo: false, responsive: true });
  for (const name of ["qk-vectors", "qk-products"]) {
    window.alHeatmapKeys($(name), { live: $(`${name}-live`), table: $(`${name}-numbers`), menu: false });
  }
  $("qk-caption").textContent = `query ${v.query} "${v.query_token}", layer ${v.layer}, head ${v.head}: ` +
    `scores divided by √${v.d_k} = ${v.sqrt_d_k.toFixed(3)}`;
  const rows = v.key_tokens.map((t, j) => {
    const tr = document.createElement("tr");
    tr.classList.toggle("masked", !v.allowed[j]);
    const cells = [`${j}: ${t}`, v.dots[j].toFixed(3), v.scaled[j] === null ? "masked" : v.scaled[j].toFixed(3),
                   v.weights[j].toFixed(4)];
    for (const text of cells) { const td = document.createElement("td"); td.textContent = text; tr.append(td); }
    return tr;
  });
  $("qk-table").tBodies[0].replaceChildren(...rows);
  Object.assign(panel.dataset, { ready: "true", query: String(v.query), layer: String(v.layer), head: String(v.head) });
}

async function drawNextToken() {
  const id = ++state.nextId;
  const chart = $("next-token-chart");
  chart.dataset.ready = "false";
  const temperature = Number($("temperature").value);
  const k = Number($("top-k").value);
  $("temperature-value").textContent = temperature.toFixed(1);
  let v;
  try {
    v = await post({ model: state.model, text: state.text, temperature, top_k: k > 0 ? k : null, count: 20 },
                   "/api/next-token");
  } catch (error) { if (id === state.nextId) showError(error.message); return; }
  if (id !== state.nextId) return;
  showError("");
  const labels = v.top.map((t) => JSON.stringify(t.token));
  Plotly.react(chart, [
    { type: "bar", name: "with these settings", x: labels, y: v.top.map((t) => t.probability),
      marker: { color: "#21908d" }, hovertemplate: "%{x}: %{y:.4f}<extra>with these settings</extra>" },
    { type: "bar", name: "the model (T = 1, all kept)", x: labels, y: v.top.map((t) => t.model_probability),
      marker: { color: "#b5b5b5" }, hovertemplate: "%{x}: %{y:.4f}<extra>T = 1, all kept</extra>" },
  ], { barmode: "group", title: { text: `next character after "${v.context.join("").slice(-30)}"` },
       yaxis: { title: { text: "probability" }, range: [0, 1] }, margin: { t: 40 }, height: 320 },
  { displaylogo: false, responsive: true });
  const best = v.top[0];
  $("next-token-summary").textContent = `${v.kept} of ${v.vocab_size} characters can be drawn; the most likely is ` +
    `${JSON.stringify(best.token)} with probability ${best.probability.toFixed(3)} ` +
    `(${best.model_probability.toFixed(3)} at temperature 1); entropy ${v.entropy_bits.toFixed(2)} bits.`;
  Object.assign(chart.dataset, { ready: "true", temperature: temperature.toFixed(1), topK: String(k), kept: String(v.kept) });
}

function drawHeatmap(data) {
  const q = data.query_tokens, k = data.key_tokens;
  // positions as coordinates (a sentence may repeat a token), tokens as tick labels
  const custom = q.map((qt, i) => k.map((kt, j) => [i, qt, j, kt]));
  const trace = {
    type: "heatmap", z: data.matrix, x: k.map((_, j) => j), y: q.map((_, i) => i),
    customdata: custom, colorscale: "Viridis", zmin: 0,
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
  $("heatmap-description").textContent = describe(data);
  window.alHeatmapKeys(div, { live: $("heatmap-live"), table: $("heatmap-numbers"), menu: false,
                              label: "attention heatmap of the selected head" });
}

// The heatmap in words (for a screen reader, and for anyone): where each query puts its weight.
function describe(data) {
  const q = data.query_tokens, k = data.key_tokens;
  const peaks = data.matrix.map((row, i) => {
    const j = row.indexOf(Math.max(...row));
    return `${q[i]} → ${k[j]} (${row[j].toFixed(2)})`;
  });
  const shown = peaks.length > 20 ? peaks.slice(0, 20).concat([`and ${peaks.length - 20} more`]) : peaks;
  return `Layer ${data.layer}, head ${data.head}: ${q.length} query tokens (rows) by ${k.length} key ` +
    `tokens (columns). Most weight for each query: ${shown.join("; ")}.`;
}

function fmt(value) {
  return value === null || value === undefined ? "–" : value.toFixed(3);
}

function metricLabel(metric) {
  const model = state.models.find((m) => m.id === state.data.model);
  if (metric.key === "start" && model) return model.start ? `on ${model.start}` : "on start (none)";
  if (metric.key === "end" && model) return model.end ? `on ${model.end}` : "on end (none)";
  return metric.label;
}

function drawHeadSummary(data) {
  const s = data.summaries[data.layer][data.head];
  const box = $("head-summary");
  const title = document.createElement("h2");  // headings go h1, h2: none skipped
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
      canvas.tabIndex = -1;  // one tab stop for the grid; the arrow keys move inside it
      canvas.setAttribute("role", "button");
      canvas.setAttribute("aria-label", canvas.title);
      canvas.addEventListener("keydown", (e) => gridKey(e, l, h));
      cells.push(canvas);
    }
  }
  grid.replaceChildren(...cells);
}

// Arrow keys move the focus between tiles, Enter or Space opens the focused head.
function gridKey(e, l, h) {
  const stack = currentStack();
  const moves = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
  if (e.key === "Enter" || e.key === " ") { e.preventDefault(); selectHead(l, h); return; }
  if (!(e.key in moves)) return;
  e.preventDefault();
  e.stopPropagation();  // not the page's "next head" keys
  const to = [Math.max(0, Math.min(stack.num_layers - 1, l + moves[e.key][0])),
              Math.max(0, Math.min(stack.num_heads - 1, h + moves[e.key][1]))];
  focusTile(to[0], to[1]);
}

function focusTile(l, h) {
  for (const c of $("grid").querySelectorAll("canvas")) c.tabIndex = -1;
  const canvas = $("grid").querySelector(`canvas[data-layer="${l}"][data-head="${h}"]`);
  if (canvas) { canvas.tabIndex = 0; canvas.focus(); }
}

function viridis(t) {
  let k = 1;
  while (k < VIRIDIS.length - 1 && t > VIRIDIS[k][0]) k++;
  const [t0, c0] = VIRIDIS[k - 1], [t1, c1] = VIRIDIS[k];
  const f = Math.max(0, Math.min(1, (t - t0) / (t1 - t0)));
  return c0.map((c, i) => Math.round(c + f * (c1[i] - c)));
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
      const [r, g, b] = viridis(matrix[i][j] / peak), at = 4 * (i * cols + j);
      image.data[at] = r; image.data[at + 1] = g; image.data[at + 2] = b;
      image.data[at + 3] = 255;
    }
  }
  ctx.putImageData(image, 0, 0);
  return canvas;
}

function markGrid() {
  const focused = $("grid").contains(document.activeElement);
  for (const canvas of $("grid").querySelectorAll("canvas")) {
    const on = canvas.dataset.layer === String(state.layer) && canvas.dataset.head === String(state.head);
    canvas.classList.toggle("selected", on);
    canvas.setAttribute("aria-pressed", String(on));
    if (!focused) canvas.tabIndex = on ? 0 : -1;
  }
}

function drawTable(data) {
  const head = document.createElement("tr");
  const columns = [{ key: "layer", label: "layer" }, { key: "head", label: "head" }, ...METRICS];
  for (const column of columns) {
    const th = document.createElement("th");
    th.scope = "col";
    const sort = document.createElement("button");  // a button: sortable by keyboard too
    sort.type = "button";
    sort.textContent = column.key === "layer" || column.key === "head" ? column.label : metricLabel(column);
    if (state.sortKey === column.key) {
      sort.textContent += state.sortDescending ? " ▼" : " ▲";
      th.setAttribute("aria-sort", state.sortDescending ? "descending" : "ascending");
    }
    sort.addEventListener("click", () => {
      state.sortDescending = state.sortKey === column.key ? !state.sortDescending : true;
      state.sortKey = column.key; drawTable(state.data);
      $("summaries").tHead.querySelector(`button[data-key="${column.key}"]`).focus();
    });
    sort.dataset.key = column.key;
    th.append(sort);
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
      if (column.key === "layer") {  // a button opens the head from the keyboard
        const open = document.createElement("button");
        open.type = "button"; open.textContent = String(r.layer);
        open.setAttribute("aria-label", `open layer ${r.layer}, head ${r.head}`);
        open.addEventListener("click", (e) => { e.stopPropagation(); selectHead(r.layer, r.head); });
        td.append(open);
      } else {
        td.textContent = column.key === "head" ? String(r[column.key]) : fmt(r[column.key]);
      }
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
  $("query").addEventListener("change", () => { state.query = Number($("query").value); drawQueryKey(); });
  $("temperature").addEventListener("input", () => { if (state.data) drawNextToken(); });
  $("top-k").addEventListener("change", () => { if (state.data) drawNextToken(); });
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
