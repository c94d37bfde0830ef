// The provenance desk page: uploads with progress, drag and drop, following a check, removing references.
// No framework and nothing from the network; text from the server goes into the page as text only.
"use strict";

function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}

function send(method, url, body, onSent) {
  // XMLHttpRequest rather than fetch: it reports upload progress.
  return new Promise(function (resolve) {
    const xhr = new XMLHttpRequest();
    xhr.open(method, url);
    xhr.setRequestHeader("Accept", "application/json");
    const token = csrfToken();
    if (token) { xhr.setRequestHeader("X-CSRF-Token", token); }
    if (onSent) { xhr.upload.onprogress = function (ev) { if (ev.lengthComputable) { onSent(ev.loaded / ev.total); } }; }
    xhr.onload = function () {
      let data = null;
      try { data = JSON.parse(xhr.responseText); } catch (err) { data = null; }
      resolve({ status: xhr.status, data: data });
    };
    xhr.onerror = function () { resolve({ status: 0, data: { error: "the server could not be reached; try again" } }); };
    xhr.send(body);
  });
}

function errorText(result) {
  if (result.data && typeof result.data.error === "string") { return result.data.error; }
  return "the server answered " + result.status + "; try again";
}

function wireUpload(formId, errorId, barId, done) {
  const form = document.getElementById(formId);
  if (!form) { return; }
  const error = document.getElementById(errorId);
  const bar = document.getElementById(barId);
  form.addEventListener("submit", async function (ev) {
    ev.preventDefault();
    error.textContent = "";
    bar.hidden = false;
    bar.value = 0;
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    const body = new FormData();
    for (const el of form.elements) {
      if (!el.name) { continue; }
      if (el.type === "file") {
        if (el.files.length) { body.append(el.name, el.files[0], el.files[0].name); }
      } else if (el.value.trim() !== "") {
        body.append(el.name, el.value);
      }
    }
    const result = await send("POST", form.dataset.api, body, function (f) { bar.value = f; });
    button.disabled = false;
    if (result.status === 202 && result.data) {
      done(result.data);
    } else {
      bar.hidden = true;
      error.textContent = errorText(result);
    }
  });
}

function wireDrop() {
  const drop = document.getElementById("drop");
  const input = document.getElementById("file");
  if (!drop || !input) { return; }
  ["dragenter", "dragover"].forEach(function (name) {
    drop.addEventListener(name, function (ev) { ev.preventDefault(); drop.classList.add("over"); });
  });
  ["dragleave", "drop"].forEach(function (name) {
    drop.addEventListener(name, function (ev) { ev.preventDefault(); drop.classList.remove("over"); });
  });
  drop.addEventListener("drop", function (ev) {
    if (ev.dataTransfer && ev.dataTransfer.files.length) {
      input.files = ev.dataTransfer.files;
      drop.querySelector("span").textContent = input.files[0].name;
    }
  });
}

async function follow(url, onChange) {
  // Long polls: the server answers as soon as the job changes, or after `wait` seconds.
  for (;;) {
    const result = await send("GET", url + "?wait=20", null, null);
    if (result.status !== 200 || !result.data) { onChange(null, errorText(result)); return; }
    onChange(result.data, null);
    if (result.data.status === "done" || result.data.status === "failed") { return; }
  }
}

function wireJob() {
  const job = document.getElementById("job");
  if (!job || job.dataset.status === "failed" || job.dataset.status === "done") { return; }
  const state = document.getElementById("job-state");
  follow("/api/v1/checks/" + job.dataset.job, function (data, error) {
    if (error) { state.textContent = error; return; }
    if (data.status === "done" || data.status === "failed") { window.location.reload(); return; }
    const progress = data.progress || {};
    if (data.status === "queued") {
      state.textContent = "Waiting for a worker (place " + (progress.queue_position || "?") + " in the queue).";
    } else {
      state.textContent = "Checking: " + (progress.stage || "starting") + ".";
    }
    const done = progress.stages_done || [];
    document.querySelectorAll("ol.stages li").forEach(function (li) {
      li.className = done.indexOf(li.textContent) >= 0 ? "done" : (li.textContent === progress.stage ? "now" : "todo");
    });
  });
}

function wireDeletes() {
  document.querySelectorAll("button[data-delete]").forEach(function (button) {
    button.addEventListener("click", async function () {
      const result = await send("DELETE", button.dataset.delete, null, null);
      if (result.status === 200) { window.location.reload(); } else { window.alert(errorText(result)); }
    });
  });
}

function wireSignOut() {
  document.querySelectorAll("form.signout").forEach(function (form) {
    form.addEventListener("submit", async function (ev) {
      ev.preventDefault();
      await send("POST", "/logout", null, null);
      window.location.assign("/");
    });
  });
}

document.addEventListener("DOMContentLoaded", function () {
  wireDrop();
  wireUpload("check-form", "check-error", "check-sent", function (data) { window.location.assign(data.page); });
  wireUpload("reference-form", "reference-error", "reference-sent", function (data) {
    const error = document.getElementById("reference-error");
    follow(data.url, function (job, problem) {
      if (problem) { error.textContent = problem; return; }
      if (job.status === "done") { window.location.reload(); }
      if (job.status === "failed") { error.textContent = job.error || "the reference could not be added"; }
    });
  });
  wireJob();
  wireDeletes();
  wireSignOut();
});
