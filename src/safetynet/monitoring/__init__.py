"""Monitoring: the warning catalogue, monthly monitor runs and the warnings they raise."""
