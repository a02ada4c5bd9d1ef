"""Applications and decisions (一门受理 · 审核确认): one intake for every assistance matter, the household
investigation with the verification report, the public notice, the decision and the enrolment it opens."""
