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

async function run(event) {
  event.preventDefault();
  const m = current();
  if (!m) return;
  const text = $("text").value;
  const body = { texts: [text] };
  if (m.task === "classify") body.explain = true;
  if (m.task === "lm") {
    body.length = Number($("length").value);
    body.temperature = Number($("temperature").value);
  }
  $("error").textContent = "";
  const out = $("result");
  out.replaceChildren();
  const response = await fetch("/v1/models/" + encodeURIComponent(m.name) + "/predict", {
    method: "POST",
    headers: headers(),
    body: JSON.stringify(body),
  });
  const answer = await response.json();
  if (!response.ok) {
    $("error").textContent = answer.error || response.statusText;
    return;
  }
  const r = answer.results[0];
  if (m.task === "classify") drawClassification(out, r);
  else if (m.task === "tag") drawTags(out, r);
  else if (m.task === "translate") out.append(el("div", "output", r.translation));
  else out.append(el("div", "output", text + r.continuation));
}

$("model").addEventListener("change", showTask);
$("token").addEventListener("change", loadModels);
$("form").addEventListener("submit", run);
loadModels();
