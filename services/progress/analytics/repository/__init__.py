"""All queries of the analytics, in two rooms: rollup.py (what the rollups are counted from and
write) and reads.py (what the reports read, and the org-unit read model)."""
