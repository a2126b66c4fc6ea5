"""make_grid, save_image, draw_bounding_boxes (filled in below)."""
