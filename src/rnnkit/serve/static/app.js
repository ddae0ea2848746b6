// rnnkit serve's page: list the models, send a text, draw the answer. No external assets; all
// text is inserted with textContent, never as HTML.
"use strict";

const $ = (id) => document.getElementById(id);
let models = [];

function headers() {
  const h = { "Content-Type": "application/json" };
  const token = $("token").value.trim();
  if (token) h.Authorization = "Bearer " + token;
  return h;
}

function el(tag, cls, text) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined) node.textContent = text;
  return node;
}

function tagColour(tag) {
  let h = 0;
  for (const c of tag) h = (h * 31 + c.charCodeAt(0)) % 360;
  return "hsl(" + h + ", 55%, 42%)";
}

async function loadModels() {
  $("error").textContent = "";
  const response = await fetch("/v1/models", { headers: headers() });
  const body = await response.json();
  if (!response.ok) {
    $("error").textContent = body.error || response.statusText;
    return;
  }
  models = body.models;
  const select = $("model");
  select.replaceChildren(...models.map((m) => el("option", "", m.name)));
  showTask();
}

function current() {
  return models.find((m) => m.name === $("model").value);
}

function showTask() {
  const m = current();
  $("task").textContent = m ? m.task : "";
  $("lm-options").hidden = !m || m.task !== "lm";
}

function drawClassification(out, r) {
  out.append(el("div", "label", r.label));
  const probs = Object.entries(r.probabilities).sort((a, b) => b[1] - a[1]);
  for (const [label, p] of probs) {
    const row = el("div", "bar-row");
    const track = el("div", "bar-track");
    const bar = el("div", "bar");
    bar.style.width = (100 * p).toFixed(1) + "%";
    track.append(bar);
    row.append(el("span", "", label), track, el("span", "", (100 * p).toFixed(1) + " %"));
    out.append(row);
  }
  if (r.tokens) {
    const box = el("div", "tokens");
    const weights = r.attention || [];
    const top = Math.max(...weights, 1e-9);
    r.tokens.forEach((token, i) => {
      const span = el("span", "token-box", token);
      const w = weights[i] !== undefined ? weights[i] / top : 0;
      span.style.background = "rgba(230, 120, 20, " + w.toFixed(3) + ")";
      if (weights[i] !== undefined) span.title = "attention " + weights[i].toFixed(3);
      box.append(span);
    });
    out.append(box);
  }
}

function drawTags(out, r) {
  const box = el("div", "tokens");
  r.tokens.forEach((token, i) => {
    const item = el("span", "tagged");
    const tag = el("span", "tag", r.tags[i]);
    tag.style.background = tagColour(r.tags[i]);
    item.append(el("span", "", token), tag);
    box.append(item);
  });
  out.append(box);
}

function drawTranslation(out, r) {
  out.append(el("div", "output", r.translation));
  if (!r.attention) return;
  // a row per target token (and <eos>), a column per source token, shaded by its weight
  const rows = r.attention;
  const top = Math.max(...rows.flat(), 1e-9);
  const grid = el("div", "heatmap");
  grid.style.gridTemplateColumns = "auto repeat(" + r.source_tokens.length + ", minmax(1.6rem, auto))";
  grid.append(el("span", "corner", ""));
  for (const token of r.source_tokens) grid.append(el("span", "source", token));
  rows.forEach((row, i) => {
    grid.append(el("span", "target", i < r.tokens.length ? r.tokens[i] : "<eos>"));
    row.forEach((w, j) => {
      const cell = el("span", "cell", "");
      cell.style.background = "rgba(59, 111, 214, " + (w / top).toFixed(3) + ")";
      cell.title = (i < r.tokens.length ? r.tokens[i] : "<eos>") + " ← " + r.source_tokens[j] + ": " + w.toFixed(3);
      grid.append(cell);
    });
  });
  out.append(el("div", "muted", "Attention: a row per output token, a column per input token."), grid);
}

function fail(answer, response) {
  $("error").textContent = (answer && answer.error) || response.statusText;
}

// A language model's continuation, drawn piece by piece as the JSON lines arrive.
async function streamContinuation(out, url, body, prompt) {
  const response = await fetch(url, {
    method: "POST",
    headers: headers(),
    body: JSON.stringify({ ...body, stream: true }),
  });
  if (!response.ok) {
    fail(await response.json().catch(() => null), response);
    return;
  }
  const box = el("div", "output");
  const generated = el("span", "generated", "");
  generated.dataset.pieces = "0";
  box.append(el("span", "prompt", prompt), generated);
  out.append(box);
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let end;
    while ((end = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, end);
      buffer = buffer.slice(end + 1);
      if (!line) continue;
      const message = JSON.parse(line);
      if (message.piece !== undefined) {
        generated.textContent += message.piece;
        generated.dataset.pieces = String(Number(generated.dataset.pieces) + 1);
      } else if (message.error) {
        $("error").textContent = message.error;
      } else if (message.results) {
        generated.textContent = message.results[0].continuation;
        box.classList.add("done");
      }
    }
  }
}

async function run(event) {
  event.preventDefault();
  const m = current();
  if (!m) return;
  const text = $("text").value;
  const body = { texts: [text] };
  if (m.task === "classify" || m.task === "translate") body.explain = true;
  if (m.task === "lm") {
    body.length = Number($("length").value);
    body.temperature = Number($("temperature").value);
    if ($("seed").value !== "") body.seed = Number($("seed").value);
  }
  $("error").textContent = "";
  const out = $("result");
  out.replaceChildren();
  const url = "/v1/models/" + encodeURIComponent(m.name) + "/predict";
  if (m.task === "lm") {
    await streamContinuation(out, url, body, text);
    return;
  }
  const response = await fetch(url, {
    method: "POST",
    headers: headers(),
    body: JSON.stringify(body),
  });
  const answer = await response.json();
  if (!response.ok) {
    fail(answer, response);
    return;
  }
  const r = answer.results[0];
  if (m.task === "classify") drawClassification(out, r);
  else if (m.task === "tag") drawTags(out, r);
  else drawTranslation(out, r);
}

$("model").addEventListener("change", showTask);
$("token").addEventListener("change", loadModels);
$("form").addEventListener("submit", run);
loadModels();
