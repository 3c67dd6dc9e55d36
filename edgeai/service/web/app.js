// edgeai's page: status, camera, events, turns, a request box and a few plots, from the
// device's own HTTP API. The token (when the API has one) is kept in this tab's
// sessionStorage and sent as a header; the event stream is read with fetch because
// EventSource cannot send headers. Text from the device is only ever set as textContent.
"use strict";

const TOKEN_KEY = "edgeai-token";
const POLL_MS = 5000;
const FRAME_MS = 2000;
const RECONNECT_MS = 2000;
const MAX_CARDS = 50;
const MAX_POINTS = 60;
const BAR_SCALE_S = 2.0; // a latency bar is this long at least: bars compare across turns

const $ = (id) => document.getElementById(id);
let token = sessionStorage.getItem(TOKEN_KEY);
let session = null; // an AbortController while the page shows data

class Unauthorized extends Error {}

async function api(path, options = {}) {
  const headers = Object.assign({}, options.headers);
  if (token) headers.Authorization = "Bearer " + token;
  const signal = options.signal || (session && session.signal);
  const response = await fetch(path, Object.assign({}, options, { headers, signal, cache: "no-store" }));
  if (response.status === 401) throw new Unauthorized();
  return response;
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const clock = (unix) => new Date(unix * 1000).toLocaleTimeString();

// --- token ---------------------------------------------------------------------------------

function askForToken(message) {
  if (session) session.abort();
  session = null;
  token = null;
  sessionStorage.removeItem(TOKEN_KEY);
  $("app").hidden = true;
  $("login").hidden = false;
  $("login-error").textContent = message || "";
  $("overall").textContent = "locked";
  $("overall").className = "badge";
  $("token").focus();
}

$("login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  token = $("token").value.trim();
  $("token").value = "";
  try {
    await api("/health");
  } catch (error) {
    askForToken(error instanceof Unauthorized ? "That token is not this device's." : String(error));
    return;
  }
  sessionStorage.setItem(TOKEN_KEY, token);
  start();
});

// --- start: everything private is fetched only from here on ----------------------------------

async function start() {
  let health;
  try {
    health = await (await api("/health")).json();
  } catch (error) {
    if (error instanceof Unauthorized) return askForToken();
    $("overall").textContent = "unreachable";
    setTimeout(start, RECONNECT_MS);
    return;
  }
  session = new AbortController();
  $("login").hidden = true;
  $("app").hidden = false;
  renderHealth(health);
  performance.mark("edgeai-status"); // the first status shown, for edgeai bench web
  guard(loadTurns());
  guard(followEvents());
  guard(every(POLL_MS, refreshHealth, POLL_MS)); // just fetched
  guard(every(POLL_MS, refreshMetrics));
  guard(every(FRAME_MS, refreshFrame));
}

/** Runs a task of the session; a 401 anywhere asks for the token again. */
async function guard(task) {
  try {
    await task;
  } catch (error) {
    if (error instanceof Unauthorized) askForToken("The token was refused; enter it again.");
    else if (error.name !== "AbortError") console.error(error);
  }
}

async function every(ms, task, firstAfterMs = 0) {
  const mine = session;
  await sleep(firstAfterMs);
  while (session === mine) {
    if (!document.hidden) {
      try {
        await task();
      } catch (error) {
        if (error instanceof Unauthorized || error.name === "AbortError") throw error;
        console.error(error);
      }
    }
    await sleep(ms);
  }
}

// --- status --------------------------------------------------------------------------------

async function refreshHealth() {
  renderHealth(await (await api("/health")).json());
}

function renderHealth(health) {
  const overall = $("overall");
  overall.textContent = health.status;
  overall.className = "badge " + health.status;
  const summary = $("summary");
  summary.replaceChildren();
  const row = (name, value) => {
    summary.append(el("dt", null, name), el("dd", null, value));
  };
  row("status", health.status);
  if (health.profile) row("profile", health.profile);
  row("up", Math.round(health.uptime_s) + " s");
  const loops = Object.entries(health.loops || {}).map(([name, s]) => `${name} ${s.state}`);
  row("loops", loops.join(", ") || "none");
  if (health.microphone) row("microphone", health.microphone.state);
  if (health.camera) {
    const picture = health.camera.picture && health.camera.picture !== "ok" ? ` (${health.camera.picture})` : "";
    row("camera", health.camera.state + picture);
  }
  if (health.mqtt) row("MQTT", health.mqtt.connected ? "connected" : "not connected");
  const problems = $("problems");
  problems.replaceChildren(...(health.problems || []).map((p) => el("li", null, p)));
  const body = $("placement").tBodies[0];
  body.replaceChildren();
  for (const p of health.placement || []) {
    const tr = el("tr");
    const where = p.device === p.wanted ? `${p.engine} on ${p.device}` : `${p.engine} on ${p.device} (wanted ${p.wanted})`;
    const version = [p.format, p.precision, p.source, p.sha256 && "sha256 " + p.sha256].filter(Boolean).join(" · ");
    for (const text of [p.role, p.model, version, where, p.threads]) tr.append(el("td", null, text));
    if (p.fallback) tr.title = p.fallback;
    body.append(tr);
  }
}

// --- camera --------------------------------------------------------------------------------

async function imageInto(img, path) {
  const response = await api(path);
  if (!response.ok) return false;
  const url = URL.createObjectURL(await response.blob());
  await new Promise((resolve) => {
    img.onload = img.onerror = resolve;
    if (img.src.startsWith("blob:")) URL.revokeObjectURL(img.src);
    img.src = url;
  });
  return img.naturalWidth > 0;
}

async function refreshFrame() {
  const shown = await imageInto($("frame"), "/snapshot");
  $("frame").hidden = !shown;
  $("frame-note").hidden = shown;
}

// --- events (live) -------------------------------------------------------------------------

const seen = new Set();

async function followEvents() {
  const mine = session;
  while (session === mine) {
    try {
      const response = await api("/events");
      if (!response.ok) throw new Error("/events answered " + response.status);
      setStream("live", "ok");
      await loadRecent(); // whatever happened while the stream was down
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value.replace(/\r\n/g, "\n");
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          onBlock(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
        }
      }
    } catch (error) {
      if (error instanceof Unauthorized || error.name === "AbortError") throw error;
      console.error(error);
    }
    setStream("reconnecting", "off");
    await sleep(RECONNECT_MS);
  }
}

function setStream(text, state) {
  $("stream").textContent = "events " + text;
  $("stream").className = "badge " + state;
}

function onBlock(block) {
  let data = "";
  for (const line of block.split("\n")) {
    if (line.startsWith("data:")) data += line.slice(5).trimStart();
  }
  if (data) onEvent(JSON.parse(data));
}

async function loadRecent() {
  const { events } = await (await api("/events/recent")).json();
  for (const event of events) onEvent(event);
}

function onEvent(event) {
  if (seen.has(event.seq)) return;
  seen.add(event.seq);
  if (event.kind === "turn") addTurn(event, true);
  else if ("track_id" in event) addCameraEvent(event);
  else if (["camera", "microphone", "reload"].includes(event.kind)) refreshHealthSoon();
}

let healthSoon = null;

/** One /health for a burst of state changes (a reconnect replays several). */
function refreshHealthSoon() {
  if (healthSoon) return;
  healthSoon = setTimeout(() => {
    healthSoon = null;
    guard(refreshHealth());
  }, 300);
}

function addOption(select, value) {
  if (!value || [...select.options].some((o) => o.value === value)) return;
  select.append(new Option(value, value));
}

function eventShown(li) {
  const kind = $("kind-filter").value;
  const zone = $("zone-filter").value;
  return (!kind || li.dataset.kind === kind) && (!zone || li.dataset.zone === zone);
}

function filterEvents() {
  for (const li of $("event-list").children) li.hidden = !eventShown(li);
}

$("kind-filter").addEventListener("change", filterEvents);
$("zone-filter").addEventListener("change", filterEvents);

function addCameraEvent(event) {
  const zone = event.zone || "whole picture";
  const li = el("li");
  li.dataset.kind = event.kind;
  li.dataset.zone = zone;
  li.dataset.seq = event.seq;
  li.dataset.id = event.id;
  li.dataset.arrivedAt = String(Date.now()); // edgeai bench web reads these two stamps
  const head = el("div", "head");
  head.append(el("span", "kind", event.kind.replace(/_/g, " ")), el("span", null, zone),
    el("span", null, clock(event.at)), el("span", null, "track " + event.track_id),
    el("span", null, "score " + Number(event.score).toFixed(2)));
  li.append(head);
  addOption($("kind-filter"), event.kind);
  addOption($("zone-filter"), zone);
  li.hidden = !eventShown(li);
  prepend($("event-list"), li);
  $("events-note").hidden = true;
  const shown = () => { li.dataset.shownAt = String(Date.now()); };
  if (event.snapshot && event.id) {
    const img = el("img", "snapshot");
    img.alt = `${event.kind} in ${zone}`;
    li.append(img);
    guard(imageInto(img, `/events/${encodeURIComponent(event.id)}/snapshot`).then(shown));
  } else {
    shown();
  }
  guard(refreshFrame());
}

function prepend(list, li) {
  list.prepend(li);
  while (list.children.length > MAX_CARDS) {
    const last = list.lastElementChild;
    for (const img of last.querySelectorAll("img")) URL.revokeObjectURL(img.src);
    last.remove();
  }
}

// --- turns ---------------------------------------------------------------------------------

async function loadTurns() {
  const { turns } = await (await api("/turns?limit=20")).json();
  for (const turn of turns.reverse()) addTurn(turn, false);
}

const STAGES = [
  ["endpoint", "endpoint_s", "endpoint"],
  ["stt", "stt_done_s", "STT"],
  ["llm", "first_token_s", "first token"],
  ["tts", "first_audio_s", "first audio"],
];

function latencyBar(turn) {
  const start = turn.speech_end_s;
  if (start === null || start === undefined) return null;
  const times = STAGES.map(([, key]) => turn[key]);
  const last = Math.max(...times.filter((t) => t !== null && t !== undefined), start);
  const scale = Math.max(BAR_SCALE_S, last - start);
  const bar = el("div", "bar");
  const words = [];
  let previous = start;
  STAGES.forEach(([name, , label], i) => {
    const t = times[i];
    if (t === null || t === undefined) return;
    const seg = el("span", "seg " + name);
    seg.style.width = (100 * Math.max(0, t - previous) / scale) + "%";
    seg.title = `${label} +${Math.round((t - start) * 1000)} ms`;
    bar.append(seg);
    words.push(`${label} +${Math.round((t - start) * 1000)} ms`);
    previous = Math.max(previous, t);
  });
  if (words.length === 0) return null; // a local intent's typed answer: nothing to time
  const box = el("div");
  box.append(bar, el("div", "stages", (turn.typed ? "asked · " : "end of speech · ") + words.join(" · ")));
  return box;
}

const turnsShown = new Set();

function addTurn(turn, live) {
  // the same turn comes from /turns and again from /events/recent after a reconnect
  const key = [turn.speech_end_s, turn.first_audio_s, turn.last_audio_s, turn.reply].join("|");
  if (turnsShown.has(key)) return;
  turnsShown.add(key);
  const li = el("li");
  li.dataset.route = turn.route;
  const head = el("div", "head");
  head.append(el("span", "kind", turn.route || "turn"));
  if (turn.typed) head.append(el("span", "tag", "typed"));
  if (turn.end && turn.end !== "answered") head.append(el("span", "tag " + turn.end, turn.end));
  if (typeof turn.latency_s === "number") head.append(el("span", null, Math.round(turn.latency_s * 1000) + " ms"));
  li.append(head);
  if (turn.transcript) {
    const you = el("p", "said");
    you.append(el("b", null, "you: "), document.createTextNode(turn.transcript));
    li.append(you);
  }
  const reply = el("p", "said");
  reply.append(el("b", null, "edgeai: "), document.createTextNode(turn.reply || "(nothing)"));
  li.append(reply);
  if (turn.failure) li.append(el("p", "error", turn.failure));
  const bar = latencyBar(turn);
  if (bar) li.append(bar);
  prepend($("turn-list"), li);
  $("turns-note").hidden = true;
  if (live) guard(refreshMetrics());
}

// --- ask and say ---------------------------------------------------------------------------

async function submitText(form, input, path, render) {
  const button = form.querySelector("button");
  button.disabled = true;
  try {
    const response = await api(path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ text: input.value }),
    });
    const body = await response.json();
    render(response.ok ? body : null, body.error);
    if (response.ok) input.value = "";
  } catch (error) {
    if (error instanceof Unauthorized) return askForToken("The token was refused; enter it again.");
    render(null, String(error));
  } finally {
    button.disabled = false;
  }
}

$("ask-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const answer = $("answer");
  answer.textContent = "…";
  answer.classList.remove("error");
  submitText(event.target, $("ask-text"), "/ask", (turn, error) => {
    answer.textContent = turn ? turn.reply || "(no answer)" : error;
    answer.classList.toggle("error", !turn);
  });
});

$("say-form").addEventListener("submit", (event) => {
  event.preventDefault();
  submitText(event.target, $("say-text"), "/say", (queued, error) => {
    $("said").textContent = queued ? `queued: “${queued.queued}”` : error;
  });
});

// --- metrics -------------------------------------------------------------------------------

const series = { detector: [], memory: [] };
let previous = null;

/** Prometheus text -> [{name, labels, value}] (comments skipped). */
function parseMetrics(text) {
  const samples = [];
  for (const line of text.split("\n")) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match) continue;
    const labels = {};
    for (const [, key, value] of (match[2] || "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[key] = value;
    samples.push({ name: match[1], labels, value: Number(match[3]) });
  }
  return samples;
}

const total = (samples, name) => samples.filter((s) => s.name === name).reduce((a, s) => a + s.value, 0);

async function refreshMetrics() {
  const samples = parseMetrics(await (await api("/metrics")).text());
  const now = Date.now() / 1000;
  const runs = total(samples, "edgeai_camera_detector_runs_total");
  const seconds = total(samples, "edgeai_camera_detector_seconds_total");
  if (previous && runs > previous.runs) {
    push(series.detector, [now, 1000 * (seconds - previous.seconds) / (runs - previous.runs)]);
  }
  previous = { runs, seconds };
  push(series.memory, [now, total(samples, "process_resident_memory_bytes") / 2 ** 20]);
  const buckets = new Map();
  for (const s of samples.filter((x) => x.name === "edgeai_turn_first_audio_seconds_bucket")) {
    buckets.set(s.labels.le, (buckets.get(s.labels.le) || 0) + s.value);
  }
  const edges = [...buckets.keys()].sort((a, b) => Number(a) - Number(b));
  const counts = edges.map((le, i) => buckets.get(le) - (i ? buckets.get(edges[i - 1]) : 0));
  barPlot($("plot-latency"), edges.map((le) => (le === "+Inf" ? ">" : "≤" + Number(le))), counts);
  linePlot($("plot-detector"), series.detector, "ms");
  linePlot($("plot-memory"), series.memory, "MiB");
}

function push(points, point) {
  points.push(point);
  if (points.length > MAX_POINTS) points.shift();
}

const SVG = "http://www.w3.org/2000/svg";
const W = 300, H = 110, PAD = 18;

function svgEl(tag, attributes, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

function emptyPlot(svg, message) {
  svg.replaceChildren(svgEl("text", { x: W / 2, y: H / 2, "text-anchor": "middle" }, message));
}

function linePlot(svg, points, unit) {
  if (points.length === 0) return emptyPlot(svg, "no data yet");
  const values = points.map(([, v]) => v);
  const low = Math.min(...values), high = Math.max(...values);
  const span = high - low || Math.max(1, high);
  const t0 = points[0][0], tSpan = points[points.length - 1][0] - t0 || 1;
  const x = (t) => PAD + (W - 2 * PAD) * (t - t0) / tSpan;
  const y = (v) => H - PAD - (H - 2 * PAD) * (v - low) / span;
  const path = points.map(([t, v], i) => `${i ? "L" : "M"}${x(t).toFixed(1)},${y(v).toFixed(1)}`).join("");
  svg.replaceChildren(
    svgEl("line", { class: "axis", x1: PAD, y1: H - PAD, x2: W - PAD, y2: H - PAD }),
    svgEl("path", { class: "line", d: path }),
    svgEl("text", { x: PAD, y: 11 }, `${values[values.length - 1].toFixed(1)} ${unit} now`),
    svgEl("text", { x: W - PAD, y: 11, "text-anchor": "end" }, `${low.toFixed(1)}–${high.toFixed(1)}`),
    svgEl("text", { x: PAD, y: H - 4 }, `last ${Math.round(tSpan)} s`),
  );
}

function barPlot(svg, labels, values) {
  if (!values.some((v) => v > 0)) return emptyPlot(svg, "no spoken turns yet");
  const high = Math.max(...values);
  const slot = (W - 2 * PAD) / values.length;
  const nodes = [svgEl("line", { class: "axis", x1: PAD, y1: H - PAD, x2: W - PAD, y2: H - PAD })];
  values.forEach((v, i) => {
    const h = (H - 2 * PAD) * v / high;
    nodes.push(svgEl("rect", { class: "barfill", x: PAD + i * slot + 2, y: H - PAD - h, width: slot - 4, height: h }));
    nodes.push(svgEl("text", { x: PAD + (i + 0.5) * slot, y: H - 5, "text-anchor": "middle" }, labels[i]));
    if (v > 0) nodes.push(svgEl("text", { x: PAD + (i + 0.5) * slot, y: H - PAD - h - 2, "text-anchor": "middle" }, String(v)));
  });
  svg.replaceChildren(...nodes);
}

start();
