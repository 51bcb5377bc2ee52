// knobtui's page: the "Start again" button (no inline handlers: the page's policy allows only this
// server's scripts), and a font that fits a phone.
//
// The simulator lays itself out from 60 x 20 cells. On a small screen (a phone, sideways or not) the
// terminal's font shrinks, down to 8 px, until that many cells fit; a larger window keeps the page's font
// (16 px, or ?fontsize=N). textual.js makes its terminal on window.onload, after this runs.
const MIN_COLS = 61, MIN_ROWS = 21;  // the simulator's smallest layout, and a cell to spare
const CELL_WIDTH = 0.6, CELL_HEIGHT = 1.3;  // a cell of Roboto Mono, in font sizes (measured in chromium)

window.addEventListener("DOMContentLoaded", () => {
  const terminal = document.getElementById("terminal");
  if (terminal && !new URLSearchParams(window.location.search).has("fontsize")) {
    const size = Number(terminal.dataset.fontSize) || 16;
    const fits = Math.floor(Math.min(window.innerWidth / (MIN_COLS * CELL_WIDTH),
                                     window.innerHeight / (MIN_ROWS * CELL_HEIGHT)));
    terminal.dataset.fontSize = String(Math.max(8, Math.min(size, fits)));
  }
  document.getElementById("restart").addEventListener("click", () => {
    window.location.reload();
  });
});
