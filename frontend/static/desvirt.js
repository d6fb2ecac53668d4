// Desvirt's only script: small enhancements; every page works the same without it.
// Copy buttons: <button data-copy="input-id" data-copied="Copied." hidden> next to a read-only field.
"use strict";
document.querySelectorAll("button[data-copy]").forEach((button) => {
  const field = document.getElementById(button.dataset.copy);
  if (!field) return;
  const status = document.getElementById(button.dataset.copyStatus || "");
  const say = (text) => { if (status) status.textContent = text; };
  button.hidden = false;
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(field.value);
    } catch {
      // Without the Clipboard API (plain http), select the text and use the older command.
      field.select();
      if (!document.execCommand("copy")) {
        say(button.dataset.copyFailed || "");
        return;
      }
    }
    say(button.dataset.copied || "");
  });
});
