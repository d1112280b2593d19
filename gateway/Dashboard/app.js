// The jobs dashboard: plain JavaScript over the public API (/api/v1/runs, /api/v1/schedules, /stats,
// /health), no libraries. Every value that comes from a job is put on the page as text (textContent), never as HTML.
"use strict";

const keyStore = "praison-api-key";
const $ = (id) => document.getElementById(id);
const state = { page: 1, batchPage: 1, pageSize: 20, stream: null, history: [] };

// ---- the API -------------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

async function api(path, options = {}) {
  const headers = new Headers(options.headers || {});
  const key = sessionStorage.getItem(keyStore);
  if (key) headers.set("Authorization", "Bearer " + key);
  const response = await fetch(path, { ...options, headers });
  if (response.status === 401) {
    const body = await response.json().catch(() => ({}));
    askForKey(body.error || "This server needs an API key.");
    throw new ApiError(401, body.error || "unauthorized");
  }
  return response;
}

/** The message of an error answer: problem JSON's detail or title, or PraisonAI's {"error": …}. */
async function describe(response) {
  const body = await response.json().catch(() => null);
  const text = body && (body.detail || body.title || body.error);
  return `${response.status}${text ? ": " + text : ""}`;
}

function askForKey(message) {
  $("key-prompt").hidden = false;
  $("key-message").textContent = message;
}

$("key-form").addEventListener("submit", (e) => {
  e.preventDefault();
  sessionStorage.setItem(keyStore, $("key-input").value);
  $("key-input").value = "";
  $("key-prompt").hidden = true;
  refresh();
});

// ---- formatting ----------------------------------------------------------------------------------

const time = (iso) => (iso ? new Date(iso).toLocaleString() : "");
function duration(job) {
  if (!job.started_at) return "";
  const end = job.completed_at ? new Date(job.completed_at) : new Date();
  return ((end - new Date(job.started_at)) / 1000).toFixed(1) + " s";
}
function cell(row, text, className) {
  const td = row.insertCell();
  td.textContent = text == null ? "" : String(text);
  if (className) td.className = className;
  return td;
}
function jobLink(id, text) {
  const link = document.createElement("a");
  link.href = "#/jobs/" + encodeURIComponent(id);
  link.textContent = text;
  return link;
}
function progressBar(percentage) {
  const bar = document.createElement("progress");
  bar.max = 100;
  bar.value = percentage || 0;
  return bar;
}

// ---- overview ------------------------------------------------------------------------------------

/** The header's line: silos, running and maximum slots, storage (from the public /health). */
async function refreshCluster() {
  const health = await fetch("/health").then((r) => r.json()).catch(() => null);
  if (health) {
    const stats = health.executor_stats || {};
    $("cluster").textContent =
      `${health.cluster ? health.cluster.silos : "?"} silo(s) · ${stats.running_jobs}/${stats.max_concurrent} running · store ${health.store}`;
  }
}

async function refreshOverview() {
  await refreshCluster();
  const response = await api("/stats");
  if (!response.ok) return;
  const store = (await response.json()).store;
  const counts = $("counts");
  counts.replaceChildren();
  for (const [status, n] of Object.entries(store.status_counts)) {
    const li = document.createElement("li");
    li.dataset.status = status;
    li.textContent = `${status} ${n}`;
    counts.append(li);
  }
  await refreshChart();
}

/** Jobs submitted and ended per minute over the last 30 minutes, from the newest 100 jobs. */
async function refreshChart() {
  const response = await api("/api/v1/runs?page_size=100");
  if (!response.ok) return;
  const jobs = (await response.json()).jobs;
  const now = Math.floor(Date.now() / 60000);
  state.history = Array.from({ length: 30 }, (_, i) => ({ minute: now - 29 + i, submitted: 0, ended: 0 }));
  const bucket = (iso) => (iso ? state.history[Math.floor(new Date(iso).getTime() / 60000) - (now - 29)] : undefined);
  for (const job of jobs) {
    const created = bucket(job.created_at);
    if (created) created.submitted++;
    const ended = bucket(job.completed_at);
    if (ended) ended.ended++;
  }
  drawChart();
}

function drawChart() {
  const canvas = $("chart");
  const g = canvas.getContext("2d");
  g.clearRect(0, 0, canvas.width, canvas.height);
  const peak = Math.max(1, ...state.history.map((b) => Math.max(b.submitted, b.ended)));
  const width = canvas.width / 30;
  state.history.forEach((b, i) => {
    const x = i * width;
    const h1 = (b.submitted / peak) * (canvas.height - 4);
    const h2 = (b.ended / peak) * (canvas.height - 4);
    g.fillStyle = "#4a7bd0";
    g.fillRect(x + 1, canvas.height - h1, width / 2 - 1, h1);
    g.fillStyle = "#3aa55d";
    g.fillRect(x + width / 2, canvas.height - h2, width / 2 - 1, h2);
  });
}

// ---- the jobs list -------------------------------------------------------------------------------

/** A page of a list endpoint as JSON, or null when the API refused it (a 401 asks for a key in `api`). */
async function readPage(path) {
  const response = await api(path);
  return response.ok ? await response.json() : null;
}

/** Replaces the rows of table `id` with one row per item, each filled by `fill(row, item)`. */
function fillRows(id, items, fill) {
  const body = $(id).tBodies[0];
  body.replaceChildren();
  for (const item of items) fill(body.insertRow(), item);
}

async function refreshList() {
  const query = new URLSearchParams({ page: state.page, page_size: state.pageSize });
  if ($("filter-status").value) query.set("status", $("filter-status").value);
  if ($("filter-session").value) query.set("session_id", $("filter-session").value);
  if ($("filter-priority").value !== "") query.set("priority", $("filter-priority").value);
  if ($("filter-batch").value.trim()) query.set("batch_id", $("filter-batch").value.trim());
  const page = await readPage("/api/v1/runs?" + query);
  if (!page) return;
  fillRows("jobs", page.jobs, (row, job) => {
    row.dataset.jobId = job.job_id;
    row.dataset.status = job.status;
    row.insertCell().append(jobLink(job.job_id, job.job_id));
    cell(row, job.status + (job.status === "queued" && job.scheduled_for ? " until " + time(job.scheduled_for) : ""), "status " + job.status);
    row.insertCell().append(progressBar(job.progress.percentage));
    cell(row, job.agent_id);
    cell(row, time(job.created_at));
    cell(row, time(job.started_at));
    cell(row, time(job.completed_at));
    cell(row, duration(job));
  });
  const pages = Math.max(1, Math.ceil(page.total / state.pageSize));
  $("page-info").textContent = `page ${state.page} of ${pages} · ${page.total} job(s)`;
  $("prev").disabled = state.page <= 1;
  $("next").disabled = state.page >= pages;
}

$("prev").addEventListener("click", () => { state.page = Math.max(1, state.page - 1); refreshList(); });
$("next").addEventListener("click", () => { state.page += 1; refreshList(); });
$("filter-status").addEventListener("change", () => { state.page = 1; refreshList(); });
$("filter-session").addEventListener("input", () => { state.page = 1; refreshList(); });
$("filter-priority").addEventListener("input", () => { state.page = 1; refreshList(); });
$("filter-batch").addEventListener("input", () => { state.page = 1; refreshList(); });

// ---- one job -------------------------------------------------------------------------------------

function showJob(job) {
  $("job-id").textContent = job.job_id;
  $("job-status").textContent = job.status;
  $("job-status").className = "status " + job.status;
  showProgress(job.progress.percentage, job.progress.current_step);
  $("job-agent").textContent = job.agent_id || "";
  $("job-attempt").textContent = job.attempt;
  $("job-priority").textContent = job.priority;
  $("job-key").textContent = job.concurrency_key || "none";
  $("job-waiting").textContent = job.waiting === "depends_on" && job.waiting_for
    ? `${WAITS.depends_on}: ${job.waiting_for.length} of ${job.depends_on.length} not ended yet (run_if: ${job.run_if})`
    : job.waiting ? WAITS[job.waiting] || job.waiting : job.status === "queued" ? "its turn" : "nothing";
  $("job-times").textContent = [time(job.created_at), time(job.started_at), time(job.completed_at)].join(" / ");
  $("job-scheduled").textContent = job.scheduled_for ? time(job.scheduled_for) : "at once";
  $("job-schedule").textContent = job.schedule_id || "none";
  $("job-batch").replaceChildren(job.batch_id ? batchLink(job.batch_id) : "none");
  $("job-webhook").textContent = job.webhook
    ? (job.webhook.pending ? "pending" : job.webhook.delivered_at ? "delivered " + time(job.webhook.delivered_at) : "given up: " + (job.webhook.error || ""))
    : "none";
  $("job-error").textContent = job.error || "";
}

/** What a queued job's `waiting` names, as the job page says it. */
const WAITS = {
  run_at: "its time (run_at)",
  depends_on: "the jobs it depends on",
  concurrency_key: "a lease of its concurrency key (its limit or throttle)",
  slot: "an execution slot of its silo",
};

/** The first jobs of `ids` (a job's parents or dependants) in table `id`, each with its status as it is now. */
async function showRelatives(id, ids) {
  const shown = (ids || []).slice(0, MAX_RELATIVES);
  $(id + "-info").textContent = !ids ? "none" : ids.length > shown.length ? `the first ${shown.length} of ${ids.length}` : `${ids.length}`;
  const statuses = await Promise.all(shown.map(async (jobId) => {
    const response = await api("/api/v1/runs/" + encodeURIComponent(jobId));
    return response.ok ? (await response.json()).status : "not found";
  }));
  fillRows(id, shown.map((jobId, i) => ({ jobId, status: statuses[i] })), (row, r) => {
    row.dataset.jobId = r.jobId;
    row.insertCell().append(jobLink(r.jobId, r.jobId));
    cell(row, r.status, "status " + r.status);
  });
}

const MAX_RELATIVES = 50;

function showProgress(percentage, step) {
  $("job-progress").value = percentage || 0;
  $("job-percent").textContent = Math.round(percentage || 0) + "%";
  $("job-step").textContent = step || "";
}

async function loadJob(id) {
  const response = await api("/api/v1/runs/" + encodeURIComponent(id));
  if (!response.ok) {
    $("action-message").textContent = await describe(response);
    return null;
  }
  const job = await response.json();
  showJob(job);
  showRelatives("job-parents", job.depends_on);
  showRelatives("job-dependants", job.dependants);
  if (["succeeded", "failed", "cancelled"].includes(job.status)) {
    const result = await api(`/api/v1/runs/${encodeURIComponent(id)}/result`);
    if (result.ok) {
      const outcome = await result.json();
      $("job-result").textContent = typeof outcome.result === "string" ? outcome.result : JSON.stringify(outcome.result, null, 2);
    }
  }
  return job;
}

/**
 * Reads the Server-Sent Events at `path` (fetch, so the API key goes as a header), calling
 * `onEvent(type, data)` for each, until the stream ends or the page moves on (state.stream aborted).
 */
async function readEvents(path, onEvent) {
  const controller = new AbortController();
  state.stream = controller;
  try {
    const response = await api(path, { signal: controller.signal });
    if (!response.ok || !response.body) return;
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const type = (block.match(/^event: ?(.*)$/m) || [])[1];
        const data = (block.match(/^data: ?(.*)$/m) || [])[1];
        if (type && data) await onEvent(type, JSON.parse(data));
      }
    }
  } catch (e) {
    if (e.name !== "AbortError" && !(e instanceof ApiError)) throw e;
  }
}

/** Follows the job's event stream until its final event. */
function follow(id) {
  return readEvents(`/api/v1/runs/${encodeURIComponent(id)}/stream`, async (type, event) => {
    if (type === "progress") showProgress(event.percentage, event.step);
    if (type === "status") { $("job-status").textContent = event.status; $("job-status").className = "status " + event.status; }
    if (["result", "error", "cancelled"].includes(type)) await loadJob(id);
  });
}

/**
 * Sends `method` to `base` + the id shown in element `idField` + `suffix`, once the user agrees to
 * `question`; says the answer in element `messageField` and, unless deleted, shows the thing again with `reload`.
 */
async function act(base, idField, messageField, reload, method, suffix, question) {
  const id = $(idField).textContent;
  if (!confirm(question)) return;
  const response = await api(`${base}${encodeURIComponent(id)}${suffix}`, { method });
  $(messageField).textContent = response.ok
    ? (method === "DELETE" ? "deleted" : "done: " + (await response.json()).status)
    : await describe(response);
  if (response.ok && method !== "DELETE") await reload(id);
}

const jobAction = (method, suffix, question) => act("/api/v1/runs/", "job-id", "action-message", loadJob, method, suffix, question);

$("cancel").addEventListener("click", () => jobAction("POST", "/cancel", "Cancel this job?"));
$("delete").addEventListener("click", () => jobAction("DELETE", "", "Delete this job?"));

// ---- one batch -----------------------------------------------------------------------------------

function batchLink(id) {
  const a = document.createElement("a");
  a.href = "#/batches/" + encodeURIComponent(id);
  a.textContent = id;
  return a;
}

/** The batch's status, counts and then job. */
function showBatch(batch) {
  $("batch-id").textContent = batch.batch_id;
  $("batch-status").textContent = batch.status + (batch.creating ? " (creating its jobs)" : "");
  $("batch-status").className = "status " + batch.status;
  const c = batch.counts;
  const ended = c.succeeded + c.failed + c.cancelled + c.missing;
  $("batch-progress").value = batch.total ? (100 * ended) / batch.total : 0;
  $("batch-ended").textContent = `${ended} of ${batch.total}`;
  $("batch-counts").textContent = ["queued", "running", "succeeded", "failed", "cancelled", "missing"].map((s) => `${s} ${c[s]}`).join(" · ");
  $("batch-then").replaceChildren(batch.then_job_id ? jobLink(batch.then_job_id, batch.then_job_id) : "none");
  $("batch-times").textContent = [time(batch.created_at), time(batch.completed_at)].join(" / ");
}

/** The batch and one page of its jobs, in the order they were given. */
async function loadBatch(id) {
  const response = await api(`/api/v1/batches/${encodeURIComponent(id)}?page=${state.batchPage}&page_size=${state.pageSize}`);
  if (!response.ok) {
    $("batch-message").textContent = await describe(response);
    return null;
  }
  const batch = await response.json();
  showBatch(batch);
  fillRows("batch-jobs", batch.jobs, (row, job) => {
    row.dataset.jobId = job.job_id;
    row.insertCell().append(jobLink(job.job_id, job.job_id));
    cell(row, job.status, "status " + job.status);
    row.insertCell().append(progressBar(job.progress.percentage));
    cell(row, time(job.started_at));
    cell(row, time(job.completed_at));
  });
  const pages = Math.max(1, Math.ceil(batch.total / state.pageSize));
  $("batch-page-info").textContent = `page ${state.batchPage} of ${pages}`;
  $("batch-prev").disabled = state.batchPage <= 1;
  $("batch-next").disabled = state.batchPage >= pages;
  return batch;
}

/** Follows the batch's stream: its counts as they change, until its `end` event. */
function followBatch(id) {
  return readEvents(`/api/v1/batches/${encodeURIComponent(id)}/stream`, async (type, batch) => {
    if (type === "batch") showBatch(batch);
    if (type === "end") await loadBatch(id);
  });
}

const batchAction = (method, suffix, question) => act("/api/v1/batches/", "batch-id", "batch-message", loadBatch, method, suffix, question);

$("batch-cancel").addEventListener("click", () => batchAction("POST", "/cancel", "Cancel this batch's live jobs and its then job?"));
$("batch-delete").addEventListener("click", () => batchAction("DELETE", "", "Delete this batch and all its jobs?"));
$("batch-prev").addEventListener("click", () => { state.batchPage = Math.max(1, state.batchPage - 1); loadBatch($("batch-id").textContent); });
$("batch-next").addEventListener("click", () => { state.batchPage += 1; loadBatch($("batch-id").textContent); });

// ---- schedules -----------------------------------------------------------------------------------

function button(text, onClick) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = text;
  b.addEventListener("click", onClick);
  return b;
}

/** The tenant's schedules (newest first) with their next and last runs, and pause/resume, run now, delete. */
async function refreshSchedules() {
  const page = await readPage("/api/v1/schedules?page_size=100");
  if (!page) return;
  fillRows("schedules", page.schedules, (row, s) => {
    row.dataset.scheduleId = s.schedule_id;
    cell(row, s.schedule_id);
    cell(row, `${s.cron} (${s.timezone})`);
    cell(row, s.paused ? "paused" : time(s.next_run_at), s.paused ? "status cancelled" : "");
    const last = row.insertCell();
    if (s.last_job_id) last.append(jobLink(s.last_job_id, s.last_run_at ? time(s.last_run_at) : s.last_job_id));
    cell(row, `${s.runs} / ${s.skipped}`);
    cell(row, s.last_error || "", "error");
    const id = s.schedule_id;
    row.insertCell().append(
      s.paused ? button("Resume", () => scheduleAction(id, "POST", "/resume")) : button("Pause", () => scheduleAction(id, "POST", "/pause")),
      button("Run now", () => scheduleAction(id, "POST", "/trigger")),
      button("Delete", () => scheduleAction(id, "DELETE", "", `Delete schedule ${id}? Its jobs stay.`)));
  });
  $("schedules-info").textContent = `${page.total} schedule(s)`;
}

/** The tenant's concurrency keys with live jobs, their running and waiting counts across the cluster. */
async function refreshKeys() {
  const page = await readPage("/api/v1/concurrency-keys");
  if (!page) return;
  fillRows("keys", page.keys, (row, k) => {
    row.dataset.key = k.key;
    cell(row, k.key);
    cell(row, k.running);
    cell(row, k.waiting);
    cell(row, k.limit);
    cell(row, k.throttle ? `${k.throttle.starts} per ${k.throttle.per_seconds} s` : "none");
  });
  $("keys-info").textContent = `${page.total} key(s) with live jobs, from ${page.silos} silo(s)`;
}

async function scheduleAction(id, method, suffix, question) {
  if (question && !confirm(question)) return;
  const response = await api(`/api/v1/schedules/${encodeURIComponent(id)}${suffix}`, { method });
  $("schedule-message").textContent = !response.ok ? await describe(response)
    : suffix === "/trigger" ? `${id}: submitted ${(await response.json()).job_id}`
    : method === "DELETE" ? `${id}: deleted`
    : `${id}: ${(await response.json()).paused ? "paused" : "resumed"}`;
  await refreshSchedules();
}

// ---- submit --------------------------------------------------------------------------------------

$("submit-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const message = $("submit-message");
  const body = { prompt: $("submit-prompt").value };
  const set = (name, value) => { if (value !== "" && value != null) body[name] = value; };
  set("recipe_name", $("submit-recipe").value.trim());
  set("session_id", $("submit-session").value);
  set("idempotency_key", $("submit-key").value);
  if ($("submit-timeout").value) body.timeout = Number($("submit-timeout").value);
  if ($("submit-delay").value) body.delay_seconds = Number($("submit-delay").value);
  if ($("submit-config").value.trim()) {
    try { body.recipe_config = JSON.parse($("submit-config").value); } catch (err) {
      message.textContent = "recipe_config is not JSON: " + err.message;
      return;
    }
  }
  const response = await api("/api/v1/runs", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  if (!response.ok) { message.textContent = await describe(response); return; }
  const job = await response.json();
  location.hash = "#/jobs/" + encodeURIComponent(job.job_id);
});

// ---- routing and refresh -------------------------------------------------------------------------

function route() {
  if (state.stream) { state.stream.abort(); state.stream = null; }
  $("action-message").textContent = "";
  $("job-result").textContent = "";
  $("batch-message").textContent = "";
  const job = location.hash.match(/^#\/jobs\/(.+)$/);
  const batch = location.hash.match(/^#\/batches\/(.+)$/);
  const schedules = location.hash === "#/schedules";
  const keys = location.hash === "#/keys";
  $("jobs-view").hidden = !!job || !!batch || schedules || keys || location.hash === "#/submit";
  $("overview").hidden = $("jobs-view").hidden;
  $("job-view").hidden = !job;
  $("batch-view").hidden = !batch;
  $("schedules-view").hidden = !schedules;
  $("keys-view").hidden = !keys;
  $("submit-view").hidden = location.hash !== "#/submit";
  if (job) {
    const id = decodeURIComponent(job[1]);
    loadJob(id).then((j) => { if (j && !["succeeded", "failed", "cancelled"].includes(j.status)) follow(id); });
  }
  if (batch) {
    const id = decodeURIComponent(batch[1]);
    state.batchPage = 1;
    loadBatch(id).then((b) => { if (b && !b.completed_at) followBatch(id); });
  }
  refresh();
}

async function refresh() {
  try {
    if (!$("schedules-view").hidden) {
      await refreshCluster();
      await refreshSchedules();
      return;
    }

    if (!$("batch-view").hidden) {
      await refreshCluster();
      await loadBatch($("batch-id").textContent); // its jobs' statuses; the stream moves its counts
      return;
    }

    if (!$("keys-view").hidden) {
      await refreshCluster();
      await refreshKeys();
      return;
    }

    if ($("jobs-view").hidden) {
      await refreshCluster();
      return;
    }

    await refreshOverview();
    await refreshList();
  } catch (e) {
    if (!(e instanceof ApiError)) console.error(e);
  }
}

window.addEventListener("hashchange", route);
route();
setInterval(refresh, 2000);
