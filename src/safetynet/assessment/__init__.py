"""Batch assessment saved as dated runs: every household of the register assessed for a month,
with the tier changes against the current enrolments."""
