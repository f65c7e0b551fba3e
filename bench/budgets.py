"""Issue 5's budgets, checked against the aggregated figures of each scenario and phase."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from bench.scenarios import AWS_PAYLOAD_LIMIT_BYTES, LAMBDA_TIMEOUT_S, Scenario

# The original sample's create phase on the (200, 20) fixture (docs/PERFORMANCE.md).
ORIGINAL_MID_CALLS = 8_606
ORIGINAL_MID_WALL_S = 104.0
# State payloads carry a run id and counts: a fleet 250 times larger may add a few digits.
PAYLOAD_GROWTH_SLACK_BYTES = 64


@dataclass(frozen=True)
class Budget:
    name: str
    value: float
    limit: float
    ok: bool

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def at_most(name: str, value: float, limit: float) -> Budget:
    return Budget(name, value, limit, value <= limit)


def below(name: str, value: float, limit: float) -> Budget:
    return Budget(name, value, limit, value < limit)


def cycle_call_limit(created: int, deleted: int, existing_snapshots: int) -> int:
    """(snapshots created) + (snapshots deleted) + 4 x ceil(S / 100) + 20."""
    return created + deleted + 4 * math.ceil(existing_snapshots / 100) + 20


def pages(items: int, kinds: int = 2) -> int:
    """Describe pages (100 records) to list `items` spread over `kinds` listings."""
    return math.ceil(items / 100) + kinds


def disaster_recovery(scenario: Scenario, line: dict[str, Any]) -> list[Budget]:
    """Issue 10: the new work may cost one copy call per new snapshot and region, one share call
    per new snapshot, and one listing pass per destination region (plus, per poll, the batched
    lookups of the new copies there); nothing per existing snapshot or existing copy. Un-sharing
    before a delete costs per deleted snapshot, like the delete itself: a read of its `restore`
    attribute and one removal."""
    by_op, created = line["api_calls_by_op"], line["created"]
    regions = len(scenario.copy_regions)
    copies = by_op.get("rds:CopyDBSnapshot", 0) + by_op.get("rds:CopyDBClusterSnapshot", 0)
    budgets = [
        at_most("copy_calls_per_new_snapshot_and_region", copies, created * regions),
        at_most("share_calls_per_new_snapshot", line["share_calls"], created),
        at_most("unshare_calls_per_deleted_snapshot", line["unshare_calls"], line["deleted"]),
        at_most(
            "attribute_reads_per_deleted_snapshot",
            by_op.get("rds:DescribeDBSnapshotAttributes", 0)
            + by_op.get("rds:DescribeDBClusterSnapshotAttributes", 0),
            line["deleted"],
        ),
    ]
    # What each destination holds: a copy of every managed snapshot and a same-named
    # deployment's own snapshots (as many as the unmanaged ones at home).
    existing_copies = scenario.snapshots + scenario.unmanaged
    lookups = line["check_polls"] * pages(created)
    for region in scenario.copy_regions:
        describes = sum(
            n for op, n in line["remote_calls_by_op"].items()
            if op.endswith(f"@{region}") and op.startswith("rds:Describe")
        )  # fmt: skip
        budgets.append(
            at_most(f"one_listing_pass_in_{region}", describes, pages(existing_copies) + lookups)
        )
    existing = scenario.snapshots + scenario.unmanaged
    limit = (
        cycle_call_limit(created, line["deleted"], existing)
        + created * regions  # copies
        + created  # shares
        + 2 * line["deleted"]  # un-shares before the deletes: read, remove
        + regions * (pages(existing_copies) + lookups)
    )
    budgets.append(at_most("cycle_api_calls", line["api_calls"], limit))
    return budgets


def check(
    scenario: Scenario, phase: str, line: dict[str, Any], baseline_payload: int | None
) -> list[Budget]:
    """The budgets that apply to one line; `baseline_payload` is the small scenario's largest
    state payload, when it ran."""
    budgets = []
    if phase in ("notify", "cycle") and "notify" in scenario.phases:
        budgets.append(
            at_most("sns_message_fits_sns", line["max_sns_message_bytes"], AWS_PAYLOAD_LIMIT_BYTES)
        )
    if scenario.name == "mid" and phase == "create":
        budgets.append(at_most("create_api_calls", line["api_calls"], 287))
        budgets.append(below("create_wall_s", line["wall_s"], 5.0))
    if phase != "cycle":
        return budgets
    budgets.append(
        at_most(
            "state_payload_fits_step_functions",
            line["max_state_payload_bytes"],
            AWS_PAYLOAD_LIMIT_BYTES,
        )
    )
    if scenario.disaster_recovery:
        budgets += disaster_recovery(scenario, line)
    elif scenario.name in ("small", "mid", "large"):
        existing = scenario.snapshots + scenario.unmanaged
        limit = cycle_call_limit(line["created"], line["deleted"], existing)
        budgets.append(at_most("cycle_api_calls", line["api_calls"], limit))
    if scenario.name == "large":
        budgets.append(below("cycle_wall_s", line["wall_s"], 60.0))
        budgets.append(below("cycle_peak_mem_mb", line["peak_mem_mb"], 100.0))
    if scenario.name == "payload" and baseline_payload is not None:
        budgets.append(
            at_most(
                "state_payload_independent_of_fleet",
                line["max_state_payload_bytes"],
                baseline_payload + PAYLOAD_GROWTH_SLACK_BYTES,
            )
        )
    return budgets


def real_aws_create_budget(line: dict[str, Any]) -> Budget:
    """1,000 creates at 200 ms each, measured: well inside (a third of) Lambda's 15 minutes."""
    return at_most("creates_well_inside_lambda_timeout_s", line["wall_s"], LAMBDA_TIMEOUT_S / 3)
