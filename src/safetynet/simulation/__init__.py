"""Policy simulation: baseline vs a changed dibao standard over the whole registry."""
