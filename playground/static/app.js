// The playground page: shows one channel of the emulated Discord and sends what the visitor types,
// clicks, picks or fills in as interactions. It renders messages the way Discord's client does
// (markdown subset, mentions, attachments, buttons, select menus) and the modal the bot opened;
// every message it shows was posted by the real bot.
"use strict";

const STYLES = { 1: "primary", 2: "secondary", 3: "success", 4: "danger", 5: "link" };
const POLL_MS = 400;
// menu: the open select menu ({ key, message, select, picked }); modal: the shown modal's interaction id.
const state = { channel: null, view: null, shown: "", menu: null, modal: null };

const $ = (id) => document.getElementById(id);

function escapeHtml(text) {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

function relative(seconds) {
  const delta = Math.round(seconds - Date.now() / 1000);
  const minutes = Math.round(Math.abs(delta) / 60);
  const span = minutes >= 60 ? `${Math.round(minutes / 60)} h` : minutes ? `${minutes} min` : `${Math.abs(delta)} s`;
  return delta >= 0 ? `in ${span}` : `${span} ago`;
}

// Discord's markdown, as far as the bot uses it: bold, code, `-#` small lines, mentions, timestamps.
function markdown(text, view) {
  return text.split("\n").map((line) => {
    let small = false;
    if (line.startsWith("-# ")) { small = true; line = line.slice(3); }
    let html = escapeHtml(line)
      .replace(/\*\*(.+?)\*\*/g, "<strong>$1</strong>")
      .replace(/`([^`]+)`/g, "<code>$1</code>")
      .replace(/&lt;@&amp;(\d+)&gt;/g, (_, id) => `<span class="mention">@${escapeHtml(view.roles[id] || "role")}</span>`)
      .replace(/&lt;@!?(\d+)&gt;/g, (_, id) => `<span class="mention">@${escapeHtml((view.users[id] || {}).name || "user")}</span>`)
      .replace(/&lt;#(\d+)&gt;/g, (_, id) => {
        const channel = view.channels.find((c) => c.id === id);
        return `<span class="mention">#${escapeHtml(channel ? channel.name : "channel")}</span>`;
      })
      .replace(/&lt;t:(\d+)(?::\w)?&gt;/g, (_, t) => `<span class="mention">${relative(Number(t))}</span>`);
    return small ? `<span class="small">${html}</span>` : html;
  }).join("\n");
}

function attachment(file) {
  const spoiler = file.filename.startsWith("SPOILER_");
  if ((file.content_type || "").startsWith("image/")) {
    return `<div class="${spoiler ? "spoiler" : ""}"><img src="${escapeHtml(file.url)}" alt="${escapeHtml(file.filename)}"></div>`;
  }
  return `<a class="file" href="${escapeHtml(file.url)}" download="${escapeHtml(file.filename)}">📄 ${escapeHtml(file.filename)}</a>`;
}

function button(item, messageId) {
  const emoji = item.emoji ? escapeHtml(item.emoji.name) + " " : "";
  const label = emoji + escapeHtml(item.label || "");
  if (item.style === 5) return `<a href="${escapeHtml(item.url)}" target="_blank" rel="noopener">${label} ↗</a>`;
  return `<button type="button" class="${STYLES[item.style] || ""}" data-message="${messageId}"
    data-custom-id="${escapeHtml(item.custom_id)}" ${item.disabled ? "disabled" : ""}>${label}</button>`;
}

// A string select as Discord draws it: a box with the chosen labels (or the placeholder) that opens a
// list; a multi-select ticks options and sends them when it closes, a single one sends on a pick.
function select(item, messageId) {
  const key = `${messageId}:${item.custom_id}`;
  const menu = state.menu && state.menu.key === key ? state.menu : null;
  const options = item.options || [];
  const chosen = menu ? menu.picked : options.filter((o) => o.default).map((o) => o.value);
  const labels = options.filter((o) => chosen.includes(o.value)).map((o) => escapeHtml(o.label));
  const shown = labels.length ? labels.join(", ")
    : `<span class="placeholder">${escapeHtml(item.placeholder || "Make a selection")}</span>`;
  const multi = (item.max_values ?? 1) > 1;
  const list = menu ? `<ul class="options" role="listbox" aria-multiselectable="${multi}">
    ${options.map((o) => option(o, chosen.includes(o.value), multi)).join("")}</ul>` : "";
  const usable = item.type === 3 && !item.disabled;
  return `<div class="select ${menu ? "open" : ""}" data-key="${escapeHtml(key)}">
    <button type="button" class="select-box" data-message="${messageId}" data-select="${escapeHtml(item.custom_id)}"
      aria-haspopup="listbox" aria-expanded="${Boolean(menu)}" ${usable ? "" : "disabled"}>
      <span class="chosen">${shown}</span><span class="caret">⌄</span></button>${list}</div>`;
}

function option(o, on, multi) {
  const emoji = o.emoji ? escapeHtml(o.emoji.name) + " " : "";
  const description = o.description ? `<span class="description">${escapeHtml(o.description)}</span>` : "";
  return `<li role="option" aria-selected="${on}" class="${on ? "picked" : ""}" data-value="${escapeHtml(o.value)}">
    <span><span class="label">${emoji}${escapeHtml(o.label)}</span>${description}</span>
    ${multi ? `<span class="check">${on ? "✓" : ""}</span>` : ""}</li>`;
}

function component(item, messageId) {
  return item.type === 2 ? button(item, messageId) : item.type >= 3 && item.type <= 8 ? select(item, messageId) : "";
}

function message(m, view) {
  const author = m.author || {};
  const name = escapeHtml(author.global_name || author.username || "?");
  const time = new Date(m.timestamp).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  const rows = (m.components || []).filter((c) => c.type === 1)
    .map((row) => `<div class="row">${row.components.map((c) => component(c, m.id)).join("")}</div>`).join("");
  return `<li class="message ${m.ephemeral ? "ephemeral" : ""}" data-id="${m.id}">
    <div class="avatar">${name.slice(0, 1).toUpperCase()}</div>
    <div class="body">
      <div><span class="author">${name}${author.bot ? '<span class="tag">APP</span>' : ""}</span><span class="time">${time}</span></div>
      <div class="content">${markdown(m.content || "", view)}</div>
      <div class="attachments">${(m.attachments || []).map(attachment).join("")}</div>
      ${rows}
      ${m.ephemeral ? '<div class="only-you">👁 Only you can see this</div>' : ""}
    </div></li>`;
}

function render(view) {
  state.view = view;
  state.channel = view.channel;
  const current = view.channels.find((c) => c.id === view.channel);
  $("channel-name").textContent = current ? current.name : "";
  $("channels").innerHTML = view.channels.map((c) =>
    `<li data-id="${c.id}" class="${c.id === view.channel ? "active" : ""} ${c.nsfw ? "nsfw" : ""}">${escapeHtml(c.name)}</li>`).join("");
  const list = $("messages");
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  list.innerHTML = view.messages.map((m) => message(m, view)).join("");
  if (atBottom) list.scrollTop = list.scrollHeight;
  showModal(view.modal);
}

// The modal the bot opened, as a dialog over the channel; drawn once, so what the visitor types stays.
function textInput(input, label, description) {
  const id = `input-${escapeHtml(input.custom_id)}`;
  const required = input.required !== false;
  const attrs = [`id="${id}"`, `name="${escapeHtml(input.custom_id)}"`, 'data-kind="text"',
    input.placeholder ? `placeholder="${escapeHtml(input.placeholder)}"` : "",
    input.min_length ? `minlength="${input.min_length}"` : "",
    input.max_length ? `maxlength="${input.max_length}"` : "", required ? "required" : ""].join(" ");
  const value = escapeHtml(input.value || "");
  const field = input.style === 2 ? `<textarea ${attrs} rows="4">${value}</textarea>` : `<input ${attrs} value="${value}">`;
  return `<div class="field">${fieldLabel(id, label, description, required)}${field}</div>`;
}

function modalSelect(item, label, description) {
  const id = `input-${escapeHtml(item.custom_id)}`;
  const options = item.options.map((o) =>
    `<option value="${escapeHtml(o.value)}" ${o.default ? "selected" : ""}>${escapeHtml(o.label)}</option>`).join("");
  return `<div class="field">${fieldLabel(id, label, description, item.required !== false)}
    <select id="${id}" name="${escapeHtml(item.custom_id)}" data-kind="select"
      ${(item.max_values ?? 1) > 1 ? "multiple" : ""}>${options}</select></div>`;
}

function fieldLabel(id, label, description, required) {
  const star = required ? '<span class="required">*</span>' : "";
  const more = description ? `<div class="description">${escapeHtml(description)}</div>` : "";
  return `<label for="${id}">${escapeHtml(label || "")}${star}</label>${more}`;
}

function modalPart(part) {
  if (part.type === 1) return part.components.map((input) => textInput(input, input.label)).join("");
  if (part.type === 10) return `<div class="text-display">${markdown(part.content || "", state.view)}</div>`;
  if (part.type !== 18) return "";
  const inner = part.component;
  if (inner.type === 4) return textInput(inner, part.label, part.description);
  if (inner.type === 3) return modalSelect(inner, part.label, part.description);
  return `<div class="field">${fieldLabel("", part.label, part.description, false)}
    <div class="description">The playground cannot show this input.</div></div>`;
}

function showModal(modal) {
  const layer = $("modal-layer");
  if (!modal) { layer.hidden = true; state.modal = null; return; }
  if (state.modal === modal.interaction) return;
  state.modal = modal.interaction;
  $("modal").innerHTML = `<header><h2 id="modal-title">${escapeHtml(modal.title)}</h2>
      <button type="button" class="close" data-modal-cancel aria-label="Close">✕</button></header>
    <div class="fields">${modal.components.map(modalPart).join("")}
      <div id="modal-error" role="alert" hidden></div></div>
    <footer><button type="button" class="cancel" data-modal-cancel>Cancel</button>
      <button type="submit" class="submit">Submit</button></footer>`;
  layer.hidden = false;
  const first = $("modal").querySelector("input, textarea, select");
  if (first) first.focus();
}

async function refresh() {
  try {
    const response = await fetch(`/api/view?channel=${state.channel || ""}`);
    const text = await response.text();
    if (text !== state.shown) { state.shown = text; render(JSON.parse(text)); }
  } finally {
    setTimeout(refresh, POLL_MS);
  }
}

async function post(path, body, errorId = "error") {
  const response = await fetch(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  return answered(response, errorId);
}

async function answered(response, errorId) {
  const answer = await response.json();
  const error = $(errorId);
  error.hidden = !answer.error;
  error.textContent = answer.error || "";
  return answer;
}

$("composer").addEventListener("submit", async (event) => {
  event.preventDefault();
  const text = $("input").value.trim();
  if (!text) return;
  if (!text.startsWith("/")) {
    $("error").hidden = false;
    $("error").textContent = "Use a slash command, like /imagine two green triangles.";
    return;
  }
  const files = [...$("files").files];
  const answer = files.length
    ? await postForm("/api/command", { channel: state.channel, text: text.slice(1) }, files)
    : await post("/api/command", { channel: state.channel, text: text.slice(1) });
  if (answer.ok) { $("input").value = ""; $("files").value = ""; showAttached(); }
});

// The files picked with 📎 go with the next command, into its file options, as in Discord's client.
function showAttached() {
  const names = [...$("files").files].map((file) => file.name);
  $("attached").hidden = !names.length;
  $("attached").textContent = names.length ? `📎 ${names.join(", ")}` : "";
}
$("files").addEventListener("change", showAttached);

async function postForm(path, fields, files, errorId = "error") {
  const form = new FormData();
  for (const [key, value] of Object.entries(fields)) form.append(key, value);
  for (const file of files) form.append("file", file, file.name);
  return answered(await fetch(path, { method: "POST", body: form }), errorId);
}

// Closing a multi-select sends what is ticked, if it changed and is enough; a single pick sends at once.
async function closeMenu() {
  const menu = state.menu;
  state.menu = null;
  render(state.view);
  const low = menu.select.min_values ?? 1;
  if (menu.picked.join() === menu.before.join() || menu.picked.length < Math.max(low, 1)) return;
  await post("/api/choose", { message: menu.message, custom_id: menu.select.custom_id, values: menu.picked });
}

function findSelect(messageId, customId) {
  const m = state.view.messages.find((x) => x.id === messageId);
  return (m.components || []).flatMap((row) => row.components || []).find((c) => c.custom_id === customId);
}

async function pick(item) {
  const menu = state.menu;
  const value = item.dataset.value;
  if ((menu.select.max_values ?? 1) <= 1) { menu.picked = [value]; await closeMenu(); return; }
  if (menu.picked.includes(value)) menu.picked = menu.picked.filter((v) => v !== value);
  else if (menu.picked.length < menu.select.max_values) menu.picked = [...menu.picked, value];
  render(state.view);
}

document.addEventListener("click", async (event) => {
  const inMenu = event.target.closest(".select.open");
  if (state.menu && !inMenu) { await closeMenu(); if (!event.target.closest(".select-box")) return; }
  const option = event.target.closest(".options li");
  if (option) { await pick(option); return; }
  const box = event.target.closest(".select-box");
  if (box) {
    if (inMenu) { await closeMenu(); return; }
    const item = findSelect(box.dataset.message, box.dataset.select);
    const picked = item.options.filter((o) => o.default).map((o) => o.value);
    state.menu = { key: `${box.dataset.message}:${item.custom_id}`, message: box.dataset.message, select: item, picked, before: picked };
    render(state.view);
    return;
  }
  if (event.target.closest("[data-modal-cancel]")) {
    const answer = await post("/api/cancel", { interaction: state.modal }, "modal-error");
    if (answer.ok) $("modal-layer").hidden = true;
    return;
  }
  const target = event.target.closest("button[data-custom-id], #channels li, .spoiler img");
  if (!target) return;
  if (target.matches(".spoiler img")) { target.parentElement.classList.remove("spoiler"); return; }
  if (target.matches("#channels li")) { state.channel = target.dataset.id; state.shown = ""; return; }
  await post("/api/click", { message: target.dataset.message, custom_id: target.dataset.customId });
});

$("modal").addEventListener("submit", async (event) => {
  event.preventDefault();
  const values = {};
  for (const field of $("modal").querySelectorAll("[data-kind]")) {
    values[field.name] = field.dataset.kind === "select" ? [...field.selectedOptions].map((o) => o.value) : field.value;
  }
  const answer = await post("/api/submit", { interaction: state.modal, values }, "modal-error");
  if (answer.ok) $("modal-layer").hidden = true;
});

document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  if (state.menu) closeMenu();
  else if (!$("modal-layer").hidden) $("modal").querySelector("[data-modal-cancel]").click();
});

refresh();
