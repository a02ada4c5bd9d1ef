"""Casework: the closed loop after a warning — routing, tasks, feedback, assistance and the chain."""
