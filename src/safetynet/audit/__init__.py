"""The audit log: who read, unmasked or changed what, and why (append-only)."""
