"""`sim inspect` and `sim overlay`: a dataset's statistics, its HTML report, and label overlays
drawn over frames."""
