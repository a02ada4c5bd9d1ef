"""safetynet: low-income population register, tiered identification and dynamic monitoring."""

__version__ = "0.1.0"
