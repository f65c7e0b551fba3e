"""Print checkov's JSON report as counts, every failed check, and every skip with its reason."""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main(report_path: str) -> int:
    report = json.loads(Path(report_path).read_text())
    # One framework gives an object; several give a list of them.
    reports = report if isinstance(report, list) else [report]
    results = [entry.get("results", {}) for entry in reports]
    passed = sum(len(r.get("passed_checks", [])) for r in results)
    failed = [check for r in results for check in r.get("failed_checks", [])]
    skipped = [check for r in results for check in r.get("skipped_checks", [])]
    print(f"checkov: {passed} passed, {len(failed)} failed, {len(skipped)} skipped")
    for check in failed:
        print(f"  FAILED  {check['check_id']} {check['resource']} ({check['file_path']})")
    for check in skipped:
        reason = check.get("check_result", {}).get("suppress_comment", "")
        print(f"  skipped {check['check_id']} {check['resource']}: {reason}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
