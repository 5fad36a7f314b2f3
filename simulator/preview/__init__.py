"""`sim preview`: a live window that re-randomizes the world with label overlays and reloads the
world file when it changes. `python3 -m simulator.preview` runs it too."""
