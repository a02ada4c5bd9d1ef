"""Administrative divisions (province → city → county → township → village) and grids."""
