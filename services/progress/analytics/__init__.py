"""Analytics of the progress service (docs/analytics.md), in the rooms of a service: routes.py and
schemas.py (the API), service.py (the reports within the caller's jurisdiction, the org-unit read
model), repository.py (every query), tasks.py (the rollup consumers, recompute, the read model's
refresh), rollups.py (maintaining the rollup tables) and the pure logic: cells.py (what an enrolment
or a teacher contributes), reports.py (the reports as functions of counts), privacy.py (jurisdiction
and small-cell suppression), exports.py (CSV and XLSX)."""
