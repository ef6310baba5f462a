// Progressive enhancement only: every page works without this file.
"use strict";
document.documentElement.classList.add("js");

document.addEventListener("DOMContentLoaded", () => {
  for (const button of document.querySelectorAll("[data-print]")) {
    button.hidden = false;
    button.addEventListener("click", () => window.print());
  }
  const source = document.body.dataset.events;
  if (!source || !window.EventSource) return;
  const live = document.getElementById("live");
  const events = new EventSource(source);
  events.addEventListener("status", (message) => {
    const step = JSON.parse(message.data);
    for (const holder of document.querySelectorAll(`[data-letter="${CSS.escape(step.letter)}"]`)) {
      const status = holder.querySelector("[data-status]");
      if (status) {
        status.textContent = step.statusLabel;
        status.className = `status status-${step.status} updated`;
      }
      const history = holder.querySelector("#history");
      if (history && !history.querySelector(`[data-sequence="${step.sequence}"]`)) {
        const item = document.createElement("li");
        item.dataset.sequence = String(step.sequence);
        const when = document.createElement("span");
        when.className = "when";
        when.textContent = step.time;
        const what = document.createElement("span");
        what.className = "what";
        what.textContent = step.action;
        const state = document.createElement("span");
        state.className = "status";
        state.textContent = step.statusLabel;
        item.append(when, " — ", what, " — ", state);
        if (step.service) item.append(` (${step.service})`);
        if (step.comment) {
          const comment = document.createElement("span");
          comment.className = "comment";
          comment.textContent = step.comment;
          item.append(document.createElement("br"), comment);
        }
        history.append(item);
      }
    }
    if (live) live.textContent = step.announce;
  });
  events.addEventListener("reply", (message) => {
    const reply = JSON.parse(message.data);
    if (live) live.textContent = reply.announce;
  });
});
