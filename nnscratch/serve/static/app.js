// The nnscratch playground: draw a digit (or a piece of clothing, as the model's dataset has it), see the
// prediction and the network's hidden layers.
// Plain JavaScript, no libraries, nothing fetched from outside this server.
"use strict";

const $ = (id) => document.getElementById(id);
const state = {
  models: [], model: null,        // the list from /api/models and the chosen entry
  drawn: false, upload: null,     // what to send: the canvas, or an uploaded file
  busy: false, dirty: false,      // one prediction request at a time; redo when the drawing changed meanwhile
  layers: [],                     // the last activations (for the hover text)
  weights: new Map(),             // "layer:unit" -> weight images, fetched on hover
  live: null,                     // the live-training charts' data
};

async function api(path, options) {
  const response = await fetch(path, options);
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || response.statusText);
  return body;
}

function setStatus(text, isError) {
  const status = $("status");
  status.textContent = text;
  status.style.color = isError ? "#c92a2a" : "";
}

// ------------------------------------------------------------------ colours

// activation in [0, 1] -> black, dark red, orange, yellow, white ("hot")
function hot(v) {
  v = Math.max(0, Math.min(1, v));
  return [Math.min(255, 3 * 255 * v), Math.max(0, Math.min(255, 3 * 255 * v - 255)),
          Math.max(0, Math.min(255, 3 * 255 * v - 510))];
}

// pixel in [0, 1] -> gray
function gray(v) {
  v = 255 * Math.max(0, Math.min(1, v));
  return [v, v, v];
}

// weight in [-1, 1] -> blue (negative), white (0), red (positive)
function diverging(v) {
  v = Math.max(-1, Math.min(1, v));
  return v >= 0 ? [255, 255 * (1 - v), 255 * (1 - v)] : [255 * (1 + v), 255 * (1 + v), 255];
}

// paint a 2-D array (rows of numbers) into a canvas of the same size, through a colour map
function paint(canvas, rows, colour) {
  const h = rows.length, w = rows[0].length;
  canvas.width = w;
  canvas.height = h;
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(w, h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const [r, g, b] = colour(rows[y][x]);
      const i = 4 * (y * w + x);
      image.data[i] = r; image.data[i + 1] = g; image.data[i + 2] = b; image.data[i + 3] = 255;
    }
  }
  ctx.putImageData(image, 0, 0);
}

function maxAbs(values) {
  let m = 0;
  for (const v of values) m = Math.max(m, Math.abs(v));
  return m || 1;
}

// ------------------------------------------------------------------ models

function usable(m) { return m && !m.error && m.image && m.layers; }

// how the page speaks of a dataset and of what to draw; any other dataset gets neutral words
const DATASETS = {
  "mnist": { name: "MNIST", thing: "a digit" },
  "fashion-mnist": { name: "Fashion-MNIST", thing: "a piece of clothing" },
};

function datasetWords(m) {
  return DATASETS[m && m.dataset] || { name: (m && m.dataset) || "", thing: "an image" };
}

// the words that follow the chosen model: the drawing panel's title, the idle hint, the window's title
function speakOf(m) {
  const { name, thing } = datasetWords(m);
  $("draw-title").textContent = `Draw ${thing}`;
  document.title = name ? `nnscratch playground: ${name}` : "nnscratch playground";
  if (!state.drawn && !state.upload) setStatus(idleHint());
}

function idleHint() { return `draw ${datasetWords(state.model).thing} with the mouse or a finger`; }

function describeModel(m) {
  const parts = [datasetWords(m).name, m.preset, m.sizes ? m.sizes.join("-") : m.arch];
  if (m.accuracy != null) parts.push(`${m.accuracy_source} accuracy ${(100 * m.accuracy).toFixed(2)}%`);
  parts.push(`${m.epochs} epoch${m.epochs === 1 ? "" : "s"}`);
  return parts.filter(Boolean).join(" · ");
}

async function loadModels() {
  const data = await api("/api/models");
  state.models = data.models;
  const select = $("model");
  const previous = select.value;
  select.innerHTML = "";
  for (const m of data.models) {
    const option = document.createElement("option");
    option.value = m.id;
    const accuracy = m.accuracy != null ? ` (${(100 * m.accuracy).toFixed(2)}%)` : "";
    const dataset = datasetWords(m).name;
    option.textContent = m.id + (dataset ? ` · ${dataset}` : "") + accuracy + (m.error ? " - unreadable" : !m.image ? " - not an image model" :
                                            m.loading ? " - loading" : "");
    option.disabled = !usable(m);
    select.appendChild(option);
  }
  const keep = data.models.find((m) => m.id === previous && usable(m));
  const first = data.models.find(usable);
  select.value = keep ? previous : first ? first.id : "";
  if (data.live && !state.live) startLive();
  if (!first) {
    $("model-info").textContent = data.models.length ? "no usable image model" : "no models yet";
    return;
  }
  const chosen = data.models.find((m) => m.id === select.value);
  if (!keep || JSON.stringify(chosen.layers) !== JSON.stringify(state.model && state.model.layers)) {
    await selectModel();
  } else {
    state.model = chosen;
    $("model-info").textContent = describeModel(chosen);
  }
}

async function selectModel() {
  state.model = state.models.find((m) => m.id === $("model").value);
  state.weights.clear();
  if (!usable(state.model)) return;
  speakOf(state.model);
  $("model-info").textContent = describeModel(state.model);
  buildBars(state.model.classes);
  buildLayers(state.model.layers);
  loadHistory();
  loadFirstLayerWeights();
  if (state.drawn || state.upload) predict();
}

// ------------------------------------------------------------------ prediction bars

function buildBars(classes) {
  const bars = $("bars");
  bars.innerHTML = "";
  classes.forEach((name, k) => {
    const row = document.createElement("div");
    row.className = "bar";
    row.dataset.class = k;
    row.innerHTML = '<span class="label"></span><span class="track"><span class="fill"></span></span>' +
                    '<span class="value">-</span>';
    row.querySelector(".label").textContent = name;
    bars.appendChild(row);
  });
}

function showBars(probabilities, prediction) {
  document.querySelectorAll("#bars .bar").forEach((row, k) => {
    const p = probabilities[k];
    row.querySelector(".fill").style.width = `${(100 * p).toFixed(1)}%`;
    row.querySelector(".value").textContent = `${(100 * p).toFixed(1)}%`;
    row.classList.toggle("top", k === prediction);
  });
}

function resetPrediction() {
  document.querySelectorAll("#bars .bar").forEach((row) => {
    row.querySelector(".fill").style.width = "0";
    row.querySelector(".value").textContent = "-";
    row.classList.remove("top");
  });
  $("prediction").textContent = "";
  paint($("input"), Array.from({ length: 28 }, () => new Array(28).fill(0)), gray);
}

// ------------------------------------------------------------------ drawing and upload

const canvas = $("draw");
const ctx = canvas.getContext("2d");
let stroke = null;

function clearDrawing() {
  ctx.fillStyle = "#000";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  state.drawn = false;
  state.upload = null;
  $("upload").value = "";
  resetPrediction();
  renderLayers(null);
  setStatus(idleHint());
}

function point(event) {
  const rect = canvas.getBoundingClientRect();
  return [(event.clientX - rect.left) * canvas.width / rect.width,
          (event.clientY - rect.top) * canvas.height / rect.height];
}

function line(from, to) {
  ctx.strokeStyle = "#fff";
  ctx.lineWidth = Number($("brush").value);
  ctx.lineCap = "round";
  ctx.lineJoin = "round";
  ctx.beginPath();
  ctx.moveTo(from[0], from[1]);
  ctx.lineTo(to[0], to[1]);
  ctx.stroke();
}

canvas.addEventListener("pointerdown", (event) => {
  event.preventDefault();
  if (state.upload) clearDrawing();
  canvas.setPointerCapture(event.pointerId);
  stroke = point(event);
  line(stroke, stroke);
  state.drawn = true;
  predict();
});
canvas.addEventListener("pointermove", (event) => {
  if (!stroke) return;
  const p = point(event);
  line(stroke, p);
  stroke = p;
  predict();
});
for (const type of ["pointerup", "pointercancel"]) {
  canvas.addEventListener(type, () => {
    if (stroke) predict();
    stroke = null;
  });
}
$("clear").addEventListener("click", clearDrawing);

$("upload").addEventListener("change", async () => {
  const file = $("upload").files[0];
  if (!file) return;
  ctx.fillStyle = "#000";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  try {  // show it (the server gets the file itself, exactly as nnscratch predict reads it)
    const bitmap = await createImageBitmap(file);
    const scale = Math.min(canvas.width / bitmap.width, canvas.height / bitmap.height);
    const w = bitmap.width * scale, h = bitmap.height * scale;
    ctx.drawImage(bitmap, (canvas.width - w) / 2, (canvas.height - h) / 2, w, h);
  } catch (e) { /* the server says what is wrong with it */ }
  state.upload = file;
  state.drawn = false;
  predict();
});

function canvasBlob() {
  return new Promise((resolve) => canvas.toBlob(resolve, "image/png"));
}

// one request in flight; if the drawing changes meanwhile, ask again when it returns
async function predict() {
  if (!usable(state.model) || !(state.drawn || state.upload)) return;
  if (state.busy) { state.dirty = true; return; }
  state.busy = true;
  state.dirty = false;
  try {
    const body = state.upload || await canvasBlob();
    const type = state.upload ? (state.upload.type || "application/octet-stream") : "image/png";
    const result = await api(`/api/activations?model=${encodeURIComponent(state.model.id)}`,
                             { method: "POST", body, headers: { "Content-Type": type } });
    if (result.model === state.model.id) show(result);
  } catch (e) {
    setStatus(e.message, true);
  } finally {
    state.busy = false;
    if (state.dirty) predict();
  }
}

function show(result) {
  paint($("input"), result.input, gray);
  showBars(result.probabilities, result.prediction);
  const label = $("prediction");
  label.textContent = result.label;
  label.dataset.label = result.label;
  label.dataset.count = Number(label.dataset.count) + 1;
  renderLayers(result.layers);
  setStatus(`predicted ${result.label} with ${(100 * result.probabilities[result.prediction]).toFixed(1)}% ` +
            `(forward pass ${result.milliseconds} ms)`);
}

// ------------------------------------------------------------------ inside the network

const MAX_MAPS = 32;  // feature maps drawn per convolutional layer

function buildLayers(layers) {
  const box = $("layers");
  box.innerHTML = "";
  if (!layers.length) {
    box.innerHTML = '<p class="muted small">This architecture has no hidden layers to show here.</p>';
  }
  layers.forEach((layer) => {
    const div = document.createElement("div");
    div.className = "layer";
    const title = document.createElement("h3");
    div.appendChild(title);
    if (layer.kind === "dense") {
      title.textContent = `${layer.name}: ${layer.units} units`;
      const [rows, cols] = layer.grid;
      const cell = Math.max(4, Math.min(28, Math.floor(240 / cols)));
      const c = document.createElement("canvas");
      c.width = cols; c.height = rows;
      c.style.width = `${cols * cell}px`;
      c.style.height = `${rows * cell}px`;
      c.dataset.layer = layer.index;
      c.addEventListener("mousemove", (event) => {
        const x = Math.floor(event.offsetX / cell), y = Math.floor(event.offsetY / cell);
        const unit = y * cols + x;
        if (x < cols && unit < layer.units) hover(layer, unit, event); else unhover();
      });
      c.addEventListener("mouseleave", unhover);
      div.appendChild(c);
    } else {
      const shown = Math.min(layer.channels, MAX_MAPS);
      title.textContent = `${layer.name}: ${layer.channels} maps of ${layer.height}x${layer.width}` +
                          (shown < layer.channels ? ` (first ${shown})` : "");
      const maps = document.createElement("div");
      maps.className = "maps";
      maps.style.gridTemplateColumns = `repeat(${Math.min(8, shown)}, auto)`;
      for (let ch = 0; ch < shown; ch++) {
        const c = document.createElement("canvas");
        c.width = layer.width; c.height = layer.height;
        c.addEventListener("mousemove", (event) => hover(layer, ch, event));
        c.addEventListener("mouseleave", unhover);
        maps.appendChild(c);
      }
      div.appendChild(maps);
    }
    box.appendChild(div);
  });
}

function renderLayers(layers) {
  state.layers = layers || [];
  document.querySelectorAll("#layers .layer").forEach((div, i) => {
    const layer = layers && layers[i];
    if (div.querySelector(".maps")) {
      div.querySelectorAll(".maps canvas").forEach((c, ch) => {
        const rows = layer ? layer.values[ch] : Array.from({ length: c.height }, () => new Array(c.width).fill(0));
        const scale = layer ? maxAbs(layer.values.flat(2)) : 1;
        paint(c, rows, (v) => hot(v / scale));
      });
    } else {
      const c = div.querySelector("canvas");
      const values = layer ? layer.values : [];
      const scale = maxAbs(values);
      const rows = [];
      for (let y = 0; y < c.height; y++) {
        rows.push(Array.from({ length: c.width }, (_, x) => values[y * c.width + x] ?? 0));
      }
      const signed = values.some((v) => v < 0);  // tanh or leaky units: show the sign
      paint(c, rows, signed ? (v) => diverging(v / scale) : (v) => hot(v / scale));
    }
  });
}

async function weightsOf(layer, unit) {
  const key = `${state.model.id}:${layer}:${unit}`;
  if (!state.weights.has(key)) {
    state.weights.set(key, api(`/api/weights?model=${encodeURIComponent(state.model.id)}&layer=${layer}&unit=${unit}`)
      .then((r) => r.units[0]));
  }
  return state.weights.get(key);
}

let hovered = null;

async function hover(layer, unit, event) {
  const box = $("hover");
  box.style.left = `${Math.min(event.clientX + 16, window.innerWidth - 330)}px`;
  box.style.top = `${Math.min(event.clientY + 16, window.innerHeight - 200)}px`;
  const key = `${layer.index}:${unit}`;
  if (hovered === key) return;
  hovered = key;
  const current = state.layers[layer.index];
  let activation = "";
  if (current) {
    const v = layer.kind === "dense" ? current.values[unit] : Math.max(...current.values[unit].flat());
    activation = layer.kind === "dense" ? `, activation ${v.toFixed(3)}` : `, strongest response ${v.toFixed(3)}`;
  }
  $("hover-title").textContent = `${layer.name}, ${layer.kind === "dense" ? "unit" : "map"} ${unit}${activation}`;
  box.classList.remove("hidden");
  const images = $("hover-images");
  images.innerHTML = "";
  if (!layer.has_weights) {
    images.textContent = "(no single weight layer feeds this one)";
    return;
  }
  try {
    const w = await weightsOf(layer.index, unit);
    if (hovered !== key) return;
    images.classList.toggle("many", w.images.length > 2);
    for (const tile of w.images) {
      const c = document.createElement("canvas");
      paint(c, tile, diverging);
      images.appendChild(c);
    }
    const note = document.createElement("div");
    note.className = "muted";
    note.style.width = "100%";
    note.textContent = `incoming weights, max |w| ${w.scale.toPrecision(3)}`;
    images.appendChild(note);
  } catch (e) {
    images.textContent = e.message;
  }
}

function unhover() {
  hovered = null;
  $("hover").classList.add("hidden");
}

async function loadFirstLayerWeights() {
  const model = state.model;
  const box = $("weights");
  box.innerHTML = "";
  const first = model.layers[0];
  $("weights-panel").classList.toggle("hidden", !first || !first.has_weights);
  if (!first || !first.has_weights) return;
  const total = first.kind === "dense" ? first.units : first.channels;
  const count = Math.min(total, 64);
  $("weights-title").textContent = `First layer's weight images (${count} of ${total} ` +
    `${first.kind === "dense" ? "units" : "filters"}; red positive, blue negative)`;
  try {
    const data = await api(`/api/weights?model=${encodeURIComponent(model.id)}&layer=0&start=0&count=${count}`);
    if (state.model !== model) return;
    for (const unit of data.units) {
      const c = document.createElement("canvas");
      c.title = `unit ${unit.unit} (max |w| ${unit.scale.toPrecision(3)})`;
      paint(c, unit.images[0], diverging);
      box.appendChild(c);
    }
  } catch (e) {
    box.textContent = e.message;
  }
}

// ------------------------------------------------------------------ charts

const COLOURS = ["#1c7ed6", "#e8590c", "#2f9e44", "#ae3ec9"];

// a round step for ticks over [lo, hi]: 1, 2 or 5 times a power of ten, giving at most about `count`
// intervals, never below `minStep` (1 for epochs, which are whole numbers)
function niceStep(lo, hi, count, minStep = 0) {
  const raw = Math.max((hi - lo) / count, minStep, 1e-12);
  const power = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw * (1 - 1e-9));
}

// the multiples of `step` within [lo, hi]
function ticksOf(lo, hi, step) {
  const ticks = [];
  for (let k = Math.ceil(lo / step - 1e-9); k * step <= hi + 1e-9 * step; k++) ticks.push(+(k * step).toPrecision(12));
  return ticks;
}

// round ticks over [lo, hi]: 0.66, 0.68, 0.70, 0.72 for 0.652 to 0.721
function niceTicks(lo, hi, count, minStep = 0) { return ticksOf(lo, hi, niceStep(lo, hi, count, minStep)); }

// a tick's text with as many decimals as the step needs: 0.65, 0.70 (not 0.652, 0.7)
function tickText(value, step) {
  return value.toFixed(Math.max(0, -Math.floor(Math.log10(step) + 1e-9)));
}

// series: [{name, points: [[x, y], ...], colour?, thin?}]; a small line chart of y against epoch, with round
// ticks and the legend in a row of its own under the title, clear of the curves. The layout it chose
// (plot area, legend boxes, ticks; canvas pixels) is kept on the canvas as `c.layout`, for the tests.
function chart(c, title, series) {
  const g = c.getContext("2d");
  const W = c.width, H = c.height, L = 48, R = 14, B = 36;
  g.clearRect(0, 0, W, H);
  g.fillStyle = "#fff";
  g.fillRect(0, 0, W, H);
  g.fillStyle = "#1d2330";
  g.font = "13px system-ui, sans-serif";
  g.textAlign = "left";
  g.fillText(title, L, 16);
  c.layout = null;
  const pts = series.flatMap((s) => s.points).filter((p) => p[1] != null && isFinite(p[1]));
  if (!pts.length) {
    g.fillStyle = "#6b7280";
    g.fillText("no data yet", L, H / 2);
    return;
  }

  // the legend: a swatch and a name per series, wrapping onto more rows when the width runs out
  g.font = "11px system-ui, sans-serif";
  const legend = [];
  let lx = L, ly = 26;
  series.forEach((s, i) => {
    const width = 22 + g.measureText(s.name).width;
    if (lx > L && lx + width > W - R) { lx = L; ly += 15; }
    const colour = s.colour || COLOURS[i % COLOURS.length];
    g.strokeStyle = g.fillStyle = colour;
    g.lineWidth = s.thin ? 1 : 2;
    g.beginPath(); g.moveTo(lx, ly + 6); g.lineTo(lx + 16, ly + 6); g.stroke();
    g.fillStyle = "#1d2330";
    g.fillText(s.name, lx + 20, ly + 10);
    legend.push([lx, ly, width, 12]);
    lx += width + 14;
  });
  const T = ly + 22;

  let [x0, x1] = [Math.min(...pts.map((p) => p[0])), Math.max(...pts.map((p) => p[0]))];
  let [y0, y1] = [Math.min(...pts.map((p) => p[1])), Math.max(...pts.map((p) => p[1]))];
  if (x1 === x0) { x0 -= 0.5; x1 += 0.5; }
  if (y1 === y0) { y0 -= 0.05; y1 += 0.05; }
  const xpad = 0.03 * (x1 - x0);  // the first and last points clear of the frame
  x0 -= xpad; x1 += xpad;
  const ystep = niceStep(y0, y1, 4);
  y0 = Math.floor(y0 / ystep + 1e-9) * ystep;  // widen the range to the ticks around the data
  y1 = Math.ceil(y1 / ystep - 1e-9) * ystep;
  const yticks = ticksOf(y0, y1, ystep);
  const xticks = niceTicks(x0, x1, 8, 1);
  const X = (x) => L + (x - x0) / (x1 - x0) * (W - L - R);
  const Y = (y) => H - B - (y - y0) / (y1 - y0) * (H - T - B);

  g.lineWidth = 1;
  g.strokeStyle = "#d9dde5";
  g.fillStyle = "#6b7280";
  g.textAlign = "right";
  for (const y of yticks) {
    g.beginPath(); g.moveTo(L, Y(y)); g.lineTo(W - R, Y(y)); g.stroke();
    g.fillText(tickText(y, ystep), L - 6, Y(y) + 4);
  }
  g.textAlign = "center";
  for (const x of xticks) {
    g.beginPath(); g.moveTo(X(x), H - B); g.lineTo(X(x), H - B + 4); g.stroke();
    g.fillText(String(x), X(x), H - B + 15);
  }
  g.fillText("epoch", (L + W - R) / 2, H - 4);
  g.textAlign = "left";

  series.forEach((s, i) => {
    const colour = s.colour || COLOURS[i % COLOURS.length];
    const points = s.points.filter((p) => p[1] != null && isFinite(p[1]));
    g.strokeStyle = g.fillStyle = colour;
    g.lineWidth = s.thin ? 1 : 2;
    g.beginPath();
    points.forEach((p, j) => (j ? g.lineTo(X(p[0]), Y(p[1])) : g.moveTo(X(p[0]), Y(p[1]))));
    g.stroke();
    if (!s.thin) points.forEach((p) => { g.beginPath(); g.arc(X(p[0]), Y(p[1]), 2.5, 0, 7); g.fill(); });
  });
  g.lineWidth = 1;
  c.layout = { plot: [L, T, W - L - R, H - T - B], legend, yticks, xticks };
}

function pairs(xs, ys) { return xs.map((x, i) => [x, ys[i]]); }

async function loadHistory() {
  const model = state.model;
  try {
    const { history } = await api(`/api/history?model=${encodeURIComponent(model.id)}`);
    if (state.model !== model) return;
    const e = history.epoch || [];
    chart($("loss-chart"), `${model.id}: loss`, [
      { name: "train", points: pairs(e, history.loss || []) },
      { name: "validation", points: pairs(e, history.val_loss || []) }]);
    chart($("acc-chart"), `${model.id}: accuracy`, [
      { name: "train", points: pairs(e, history.accuracy || []) },
      { name: "validation", points: pairs(e, history.val_accuracy || []) }]);
  } catch (err) {
    chart($("loss-chart"), `history unavailable: ${err.message}`, []);
  }
}

// ------------------------------------------------------------------ live training

function startLive() {
  state.live = { batches: [], epochs: [], total: null };
  $("live-panel").classList.remove("hidden");
  const source = new EventSource("/api/live");
  source.onmessage = (message) => liveEvent(JSON.parse(message.data));
  source.onerror = () => { $("live-status").textContent = "(connection lost; retrying)"; };
}

function liveEvent(event) {
  const live = state.live;
  if (event.type === "run") {
    $("live-status").textContent = `${event.model} on ${event.dataset} -> ${event.out}`;
  } else if (event.type === "begin") {
    live.total = event.epochs;
  } else if (event.type === "batch") {
    live.batches.push([event.epoch - 1 + event.batch / event.batches, event.loss, event.accuracy]);
    $("live-rate").textContent = `epoch ${event.epoch}/${live.total}, batch ${event.batch}/${event.batches}: ` +
      `${Math.round(event.samples_per_s).toLocaleString()} samples/s, running loss ${event.loss.toFixed(4)}`;
  } else if (event.type === "epoch") {
    live.epochs.push(event);
    $("live-rate").textContent = `epoch ${event.epoch}/${live.total} done in ${event.time.toFixed(1)} s: ` +
      `${Math.round(event.samples_per_s).toLocaleString()} samples/s, loss ${event.loss.toFixed(4)}` +
      (event.val_accuracy != null ? `, validation accuracy ${(100 * event.val_accuracy).toFixed(2)}%` : "");
    refreshSoon();
  } else if (event.type === "done") {
    $("live-status").textContent = `finished: test accuracy ${(100 * event.accuracy).toFixed(2)}% (${event.out})`;
    refreshSoon();
  } else if (event.type === "error") {
    $("live-status").textContent = `stopped: ${event.message}`;
  }
  if (!state.live.frame) state.live.frame = requestAnimationFrame(drawLive);  // once per frame, not per event
}

// the run's new checkpoint: refresh the model list and curves, once for a burst of events
let refreshTimer = null;
function refreshSoon() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => {
    loadModels().then(() => { if (usable(state.model)) loadHistory(); }).catch((e) => setStatus(e.message, true));
  }, 300);
}

function drawLive() {
  state.live.frame = null;
  const { batches, epochs } = state.live;
  const e = epochs.map((r) => r.epoch);
  chart($("live-loss"), "live: loss", [
    { name: "running (batches)", points: batches.map((b) => [b[0], b[1]]), thin: true, colour: "#adb5bd" },
    { name: "train (epoch)", points: pairs(e, epochs.map((r) => r.loss)), colour: COLOURS[0] },
    { name: "validation", points: pairs(e, epochs.map((r) => r.val_loss)), colour: COLOURS[1] }]);
  chart($("live-acc"), "live: accuracy", [
    { name: "running (batches)", points: batches.map((b) => [b[0], b[2]]), thin: true, colour: "#adb5bd" },
    { name: "train (epoch)", points: pairs(e, epochs.map((r) => r.accuracy)), colour: COLOURS[0] },
    { name: "validation", points: pairs(e, epochs.map((r) => r.val_accuracy)), colour: COLOURS[1] }]);
}

// ------------------------------------------------------------------ start

$("model").addEventListener("change", selectModel);
clearDrawing();
loadModels().catch((e) => setStatus(e.message, true));
