"""Target resolution: explicit ids, tag selection and the S3 list file, deduplicated.

Cluster members (any engine, recognised by DBClusterIdentifier) resolve to their cluster, once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from rds_snapshot_manager.domain.model import Database, SourceRef, SourceType, TargetOutcome

SNAPSHOTTABLE_STATUS = {
    SourceType.INSTANCE: frozenset({"available", "storage-optimization"}),
    SourceType.CLUSTER: frozenset({"available"}),
}


@dataclass(frozen=True, slots=True)
class TargetRequest:
    instance_ids: tuple[str, ...] = ()
    cluster_ids: tuple[str, ...] = ()
    listed_ids: tuple[str, ...] = ()  # from the S3 list file: instance or cluster ids
    selection_tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Resolution:
    targets: list[Database]
    failed: list[TargetOutcome]


def parse_target_list(text: str) -> list[str]:
    """The original sample's list format: one id per line, LF or CRLF, blanks and # comments out."""
    ids = []
    for line in text.splitlines():
        entry = line.split("#", 1)[0].strip()
        if entry:
            ids.append(entry)
    return ids


def resolve_targets(
    request: TargetRequest, instances: Iterable[Database], clusters: Iterable[Database]
) -> Resolution:
    by_instance = {db.ref.source_id.lower(): db for db in instances}
    by_cluster = {db.ref.source_id.lower(): db for db in clusters}
    chosen: dict[SourceRef, Database] = {}
    failed: dict[str, TargetOutcome] = {}

    def choose(database: Database) -> None:
        if database.cluster_id is not None:
            cluster = by_cluster.get(database.cluster_id.lower())
            if cluster is None:
                not_found(database.cluster_id, SourceType.CLUSTER)
                return
            database = cluster
        chosen.setdefault(database.ref, database)

    def not_found(source_id: str, source_type: SourceType | None) -> None:
        kind = source_type.value if source_type else "instance or cluster"
        failed.setdefault(
            source_id.lower(),
            TargetOutcome.failed(source_id, source_type, "NotFound", f"no DB {kind} {source_id}"),
        )

    for source_id in request.instance_ids:
        found = by_instance.get(source_id.lower())
        choose(found) if found else not_found(source_id, SourceType.INSTANCE)
    for source_id in request.cluster_ids:
        found = by_cluster.get(source_id.lower())
        choose(found) if found else not_found(source_id, SourceType.CLUSTER)
    for source_id in request.listed_ids:
        found = by_instance.get(source_id.lower()) or by_cluster.get(source_id.lower())
        choose(found) if found else not_found(source_id, None)
    if request.selection_tags:
        wanted = set(request.selection_tags.items())
        for database in [*by_instance.values(), *by_cluster.values()]:
            if wanted <= set(database.tags):
                choose(database)
    found_ids = {ref.source_id.lower() for ref in chosen}
    return Resolution(
        targets=sorted(chosen.values(), key=lambda db: db.ref),
        failed=[outcome for key, outcome in failed.items() if key not in found_ids],
    )


def forbidden_state_reason(database: Database) -> str | None:
    """The skip reason when the database's status does not allow a snapshot, else None."""
    allowed = SNAPSHOTTABLE_STATUS[database.ref.source_type]
    if database.status in allowed:
        return None
    return (
        f"{database.ref.source_type} is {database.status}; a snapshot needs status "
        + " or ".join(sorted(allowed))
    )
