"""Analytics: household facts for a month from the registry snapshot and the lake (Ibis)."""
