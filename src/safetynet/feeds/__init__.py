"""Department data feeds: validate, quarantine, ledger, Parquet lake (docs/contracts/feeds.md)."""
