"""Department data feeds: validate, quarantine, ledger, Parquet lake (shared/spec/feeds.md)."""
