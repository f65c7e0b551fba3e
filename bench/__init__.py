"""Scale benchmark of rds-snapshot-manager: one real cycle of the handlers over moto (issue 5).

`python -m bench` (or `make bench`) runs every scenario, prints one JSON line per scenario and
phase, and exits non-zero when a budget fails. See docs/PERFORMANCE.md.
"""
