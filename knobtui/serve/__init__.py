"""How the simulator reaches another terminal: `knobtui serve` over SSH."""
