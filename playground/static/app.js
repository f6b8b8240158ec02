// The playground page: shows one channel of the emulated Discord and sends what the visitor types or
// clicks as interactions. It renders messages the way Discord's client does (markdown subset,
// mentions, attachments, buttons); every message it shows was posted by the real bot.
"use strict";

const STYLES = { 1: "primary", 2: "secondary", 3: "success", 4: "danger", 5: "link" };
const POLL_MS = 400;
const state = { channel: null, view: null, shown: "" };

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

function message(m, view) {
  const author = m.author || {};
  const name = escapeHtml(author.global_name || author.username || "?");
  const time = new Date(m.timestamp).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  const rows = (m.components || []).filter((c) => c.type === 1)
    .map((row) => `<div class="row">${row.components.map((b) => button(b, m.id)).join("")}</div>`).join("");
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

async function post(path, body) {
  const response = await fetch(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  const answer = await response.json();
  const error = $("error");
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
  const answer = await post("/api/command", { channel: state.channel, text: text.slice(1) });
  if (answer.ok) $("input").value = "";
});

document.addEventListener("click", async (event) => {
  const target = event.target.closest("button[data-custom-id], #channels li, .spoiler img");
  if (!target) return;
  if (target.matches(".spoiler img")) { target.parentElement.classList.remove("spoiler"); return; }
  if (target.matches("#channels li")) { state.channel = target.dataset.id; state.shown = ""; return; }
  await post("/api/click", { message: target.dataset.message, custom_id: target.dataset.customId });
});

refresh();
