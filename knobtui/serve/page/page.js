// knobtui's page: the "Start again" button (no inline handlers: the page's policy allows only this
// server's scripts).
window.addEventListener("DOMContentLoaded", () => {
  document.getElementById("restart").addEventListener("click", () => {
    window.location.reload();
  });
});
