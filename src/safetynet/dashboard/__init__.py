"""The monitoring dashboard: counts by tier and region, enrolment trend (issue 6)."""
