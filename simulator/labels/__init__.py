"""Ground truth: the label records, and how they are derived exactly from the rendered passes and
the scene's geometry (boxes, RLE masks, polygons, projections, visibility filters)."""
