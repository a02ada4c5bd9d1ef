"""What every benchmark reports besides time."""

from __future__ import annotations

from pathlib import Path


def peak_rss_gb() -> float:
    """This process's peak resident memory so far (Linux VmHWM), in GB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024 / 1e9
    return 0.0


def add_months(start: str, k: int) -> str:
    """YYYY-MM plus k months (the last month of a synthetic province that starts at `start`)."""
    y, m = (int(x) for x in start.split("-"))
    m += k
    return f"{y + (m - 1) // 12:04d}-{(m - 1) % 12 + 1:02d}"
