"""The benchmark's scenarios (issue 5) and the settings every run shares."""

from __future__ import annotations

from dataclasses import dataclass

NAME = "rds-snapshot-manager"
REGION = "us-east-1"
# The disaster-recovery scenarios: one copy region, snapshots shared with one other account.
COPY_REGION = "us-west-2"
SHARE_ACCOUNT = "210987654321"
INTERVAL_HOURS = 24
RETENTION_DAYS = 7
# Step Functions' state payload limit and SNS's message limit (both 256 KiB).
AWS_PAYLOAD_LIMIT_BYTES = 262_144
REAL_AWS_CALL_S = 0.2
LAMBDA_TIMEOUT_S = 900
FULL_CYCLE = ("create", "check", "prune", "notify")


@dataclass(frozen=True)
class Scenario:
    """`targets` databases (a fifth of them Aurora clusters with one member instance each) and
    `snapshots` managed snapshots spread evenly over them: a quarter expired, the rest older than
    the interval, except on `not_due_share` of the targets whose newest one is two hours old.
    `unmanaged` manual snapshots (no or another ManagedBy tag, all expired) must survive Prune."""

    name: str
    targets: int
    snapshots: int
    runs: int = 3
    # Extra runs under tracemalloc for peak memory (it slows a run several times over).
    memory_runs: int = 1
    not_due_share: float = 0.0
    cluster_share: float = 0.2
    phases: tuple[str, ...] = FULL_CYCLE
    # No tight wall-time budget: the traced runs may use the other core meanwhile.
    traced_runs_beside: bool = False
    # Stand-in for real AWS latency on each create/delete call (the concurrency scenario).
    mutation_latency_s: float = 0.0
    # The run's quota input (RSM_MANUAL_SNAPSHOT_QUOTA), when the scenario tests the quota.
    snapshot_quota: int | None = None
    # Disaster recovery (issue 10): copy each new snapshot to these regions, where the fixture
    # holds a copy of every managed snapshot already; share each new one with these accounts.
    copy_regions: tuple[str, ...] = ()
    share_accounts: tuple[str, ...] = ()

    @property
    def unmanaged(self) -> int:
        return max(5, self.snapshots // 50) if self.snapshots else 0

    @property
    def disaster_recovery(self) -> bool:
        return bool(self.copy_regions or self.share_accounts)

    @property
    def quota(self) -> int:
        """moto's limit, and the run's quota input unless `snapshot_quota`: room for the fixture
        and one more cycle."""
        return max(1000, 2 * (self.snapshots + self.unmanaged + self.targets * 2))


SCENARIOS = (
    Scenario("small", targets=20, snapshots=100, not_due_share=0.25, memory_runs=3),
    # Mirrors the original sample's (200, 20) fixture: every database due, a quarter expired.
    Scenario("mid", targets=200, snapshots=4_000),
    Scenario("large", targets=1_000, snapshots=20_000, not_due_share=0.1),
    # 1,000 creates with 200 ms each: measures the engine's bounded concurrency in wall time.
    Scenario(
        "concurrency",
        targets=1_000,
        snapshots=0,
        runs=1,
        memory_runs=0,
        traced_runs_beside=True,
        phases=("create",),
        mutation_latency_s=REAL_AWS_CALL_S,
    ),
    # The small fleet with room for 4 more instance snapshots: 8 due instances must be reported
    # failed (SnapshotQuotaExceeded) without a create call, and Prune must still run.
    Scenario(
        "quota", targets=20, snapshots=100, not_due_share=0.25, memory_runs=0, snapshot_quota=85
    ),
    # Issue 10: mid and large with one copy region and sharing on. The new work may cost one copy
    # call per new snapshot and region, one share call per new snapshot and one listing pass per
    # destination region; nothing per existing snapshot (or existing copy).
    Scenario(
        "dr-small",
        targets=20,
        snapshots=100,
        not_due_share=0.25,
        memory_runs=0,
        copy_regions=(COPY_REGION,),
        share_accounts=(SHARE_ACCOUNT,),
    ),
    Scenario(
        "dr-mid",
        targets=200,
        snapshots=4_000,
        memory_runs=0,
        copy_regions=(COPY_REGION,),
        share_accounts=(SHARE_ACCOUNT,),
    ),
    Scenario(
        "dr-large",
        targets=1_000,
        snapshots=20_000,
        not_due_share=0.1,
        # One run, not traced: each takes about 10 minutes under moto (181 polls: 5 copies in
        # flight per destination); large's traced run measures the same engine and fleet.
        runs=1,
        memory_runs=0,
        copy_regions=(COPY_REGION,),
        share_accounts=(SHARE_ACCOUNT,),
    ),
    # Step Functions payloads at N=5,000: a full cycle, payloads measured between the states.
    Scenario("payload", targets=5_000, snapshots=0, runs=1, memory_runs=0, traced_runs_beside=True),
)
BY_NAME = {scenario.name: scenario for scenario in SCENARIOS}
