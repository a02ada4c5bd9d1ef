"""Synthetic province generator: register, local standards, department feeds and the
truth behind them (see service.generate)."""
