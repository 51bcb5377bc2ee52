"""The simulator screen (Textual). It renders the engine's views and turns keys into engine calls."""
