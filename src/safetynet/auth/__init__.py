"""Sign-in, roles and region scope (issue 6)."""
