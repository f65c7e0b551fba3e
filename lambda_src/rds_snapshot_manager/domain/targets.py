"""Target resolution: explicit ids, tag selection and the S3 list file, deduplicated.

Cluster members (any engine, recognised by DBClusterIdentifier) resolve to their cluster, once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from rds_snapshot_manager.domain.model import (
    Database,
    Outcome,
    SourceRef,
    SourceType,
    TargetOutcome,
)

# RDS DB instance and cluster identifiers: 1 to 63 letters, digits and hyphens, starting with a
# letter (RDS stores them in lowercase). Anything else, e.g. an absurdly long line of the list
# file, is a failed target with a short message, never looked up and never stored whole.
MAX_ID_LENGTH = 63
DB_IDENTIFIER = re.compile(rf"[A-Za-z][A-Za-z0-9-]{{0,{MAX_ID_LENGTH - 1}}}")

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
class Member:
    """A cluster member the user named: reported under its own id, covered by its cluster."""

    source_id: str  # as the user wrote it
    cluster: SourceRef


@dataclass(frozen=True, slots=True)
class Resolution:
    targets: list[Database]
    failed: list[TargetOutcome]
    # The id as the user wrote it, for targets named with another case than RDS's (RDS answers
    # in lowercase): the report shows the user's spelling, API calls and ARNs RDS's.
    requested_as: dict[SourceRef, str] = field(default_factory=dict)
    members: list[Member] = field(default_factory=list)

    def shown_id(self, ref: SourceRef) -> str:
        return self.requested_as.get(ref, ref.source_id)

    def shown(self, outcome: TargetOutcome) -> TargetOutcome:
        """The outcome under the id the user gave."""
        if outcome.source_type is None:
            return outcome
        shown = self.shown_id(SourceRef(outcome.source_type, outcome.source_id))
        return replace(outcome, source_id=shown) if shown != outcome.source_id else outcome


@dataclass(frozen=True, slots=True)
class TargetFilter:
    """The databases an on-demand run is limited to (execution input `targets`, D10)."""

    instance_ids: tuple[str, ...] = ()
    cluster_ids: tuple[str, ...] = ()

    @property
    def count(self) -> int:
        return len(self.instance_ids) + len(self.cluster_ids)

    def names(self, ref: SourceRef) -> bool:
        """Whether `ref` is named as itself (a cluster member named as an instance is not its
        cluster: `limit_to` resolves that)."""
        ids = self.instance_ids if ref.source_type is SourceType.INSTANCE else self.cluster_ids
        return ref.source_id.lower() in {source_id.lower() for source_id in ids}


NOT_A_TARGET = "NotATarget"


def limit_to(resolution: Resolution, wanted: TargetFilter) -> Resolution:
    """The part of the deployment's resolution that `wanted` names (ids case-insensitive): its
    targets, listed cluster members (with their cluster) and failures. Every named id that is
    none of them is failed `NotATarget`: an on-demand run never snapshots a database that the
    deployment does not select."""
    named = {
        SourceType.INSTANCE: {i.lower(): i for i in wanted.instance_ids},
        SourceType.CLUSTER: {i.lower(): i for i in wanted.cluster_ids},
    }
    met: set[tuple[SourceType, str]] = set()
    members = [m for m in resolution.members if m.source_id.lower() in named[SourceType.INSTANCE]]
    met.update((SourceType.INSTANCE, m.source_id.lower()) for m in members)
    kept = {m.cluster for m in members}
    for target in resolution.targets:
        key = target.ref.source_id.lower()
        if key in named[target.ref.source_type]:
            kept.add(target.ref)
            met.add((target.ref.source_type, key))
    failed = []
    for outcome in resolution.failed:
        key = outcome.source_id.lower()
        kinds = [outcome.source_type] if outcome.source_type else list(SourceType)
        hits = {(kind, key) for kind in kinds if key in named[kind]}
        if hits:
            failed.append(outcome)
            met |= hits
    selected = {(t.ref.source_type, t.ref.source_id.lower()) for t in resolution.targets}
    for kind, ids in named.items():
        for key, source_id in ids.items():
            if (kind, key) not in met:
                failed.append(_not_a_target(source_id, kind, selected))
    return Resolution(
        targets=[t for t in resolution.targets if t.ref in kept],
        failed=failed,
        requested_as={ref: shown for ref, shown in resolution.requested_as.items() if ref in kept},
        members=members,
    )


def _not_a_target(
    source_id: str, kind: SourceType, selected: set[tuple[SourceType, str]]
) -> TargetOutcome:
    other = SourceType.CLUSTER if kind is SourceType.INSTANCE else SourceType.INSTANCE
    message = (
        f"DB {kind} {source_id} is not among the databases this deployment snapshots "
        f"(db_{kind}_identifiers, selection_tags, the targets list file); an on-demand run "
        "snapshots only those"
    )
    if (other, source_id.lower()) in selected:
        message += f"; the DB {other} {source_id} is one: name it in db_{other}_identifiers"
    return TargetOutcome.failed(source_id, kind, NOT_A_TARGET, message)


def parse_target_list(text: str) -> list[str]:
    """The original sample's list format: one id per line, LF or CRLF, blanks and # comments out."""
    ids = []
    for line in text.splitlines():
        entry = line.split("#", 1)[0].strip()
        if entry:
            ids.append(entry)
    return ids


def shorten(text: str) -> str:
    """`text` if at most MAX_ID_LENGTH characters, else its start and its length: an absurdly long
    id must not make the ledger item or the report huge."""
    if len(text) <= MAX_ID_LENGTH:
        return text
    return f"{text[: MAX_ID_LENGTH - 20]}...({len(text)} chars)"


def resolve_targets(
    request: TargetRequest, instances: Iterable[Database], clusters: Iterable[Database]
) -> Resolution:
    """Explicit ids are matched case-insensitively. Every requested id ends up chosen (itself or,
    for a cluster member, its cluster), or failed: `InvalidIdentifier` or `NotFound` (with a hint
    when the other kind exists under that id). Failures are keyed by (type, id), so an instance
    and a cluster sharing an id are two targets."""
    by_instance = {db.ref.source_id.lower(): db for db in instances}
    by_cluster = {db.ref.source_id.lower(): db for db in clusters}
    chosen: dict[SourceRef, Database] = {}
    requested_as: dict[SourceRef, str] = {}
    members: dict[str, Member] = {}
    failed: dict[tuple[SourceType | None, str], TargetOutcome] = {}

    def choose(database: Database) -> SourceRef | None:
        if database.cluster_id is not None:
            cluster = by_cluster.get(database.cluster_id.lower())
            if cluster is None:
                not_found(database.cluster_id, SourceType.CLUSTER)
                return None
            database = cluster
        chosen.setdefault(database.ref, database)
        return database.ref

    def not_found(source_id: str, source_type: SourceType | None) -> None:
        key = source_id.lower()
        message = f"no DB {source_type.value if source_type else 'instance or cluster'} {source_id}"
        if source_type is SourceType.INSTANCE and key in by_cluster:
            message += f"; a DB cluster {source_id} exists: list it in db_cluster_identifiers"
        elif source_type is SourceType.CLUSTER and key in by_instance:
            message += f"; a DB instance {source_id} exists: list it in db_instance_identifiers"
        failed.setdefault(
            (source_type, key), TargetOutcome.failed(source_id, source_type, "NotFound", message)
        )

    def requested(source_id: str, source_type: SourceType | None) -> None:
        if not DB_IDENTIFIER.fullmatch(source_id):
            failed.setdefault(
                (source_type, source_id.lower()),
                TargetOutcome.failed(
                    shorten(source_id),
                    source_type,
                    "InvalidIdentifier",
                    f"not a DB identifier ({len(source_id)} characters): an RDS identifier is 1 "
                    f"to {MAX_ID_LENGTH} letters, digits and hyphens, starting with a letter",
                ),
            )
            return
        key = source_id.lower()
        found = {
            SourceType.INSTANCE: by_instance.get(key),
            SourceType.CLUSTER: by_cluster.get(key),
            None: by_instance.get(key) or by_cluster.get(key),
        }[source_type]
        if found is None:
            not_found(source_id, source_type)
            return
        ref = choose(found)
        if ref is not None and found.cluster_id is not None:
            members.setdefault(key, Member(source_id, ref))
        elif ref is not None and source_id != ref.source_id:
            requested_as.setdefault(ref, source_id)

    for source_id in request.instance_ids:
        requested(source_id, SourceType.INSTANCE)
    for source_id in request.cluster_ids:
        requested(source_id, SourceType.CLUSTER)
    for source_id in request.listed_ids:
        requested(source_id, None)
    if request.selection_tags:
        wanted = set(request.selection_tags.items())
        for database in [*by_instance.values(), *by_cluster.values()]:
            if wanted <= set(database.tags):
                choose(database)
    return Resolution(
        targets=sorted(chosen.values(), key=lambda db: db.ref),
        # An id from the list file (either kind) that also failed as a named kind is one target.
        failed=[
            outcome
            for (kind, key), outcome in failed.items()
            if kind is not None or not any((typed, key) in failed for typed in SourceType)
        ],
        requested_as=requested_as,
        members=list(members.values()),
    )


def covered_member(member: Member, cluster: TargetOutcome, cluster_shown: str) -> TargetOutcome:
    """A listed cluster member's own outcome: its cluster's, under the member's id, with the
    cluster's snapshot id and a reason naming the cluster that covers it."""
    note = f"covered by the snapshot of cluster {cluster_shown}"
    if cluster.outcome is Outcome.SKIPPED:
        note = f"covered by cluster {cluster_shown}, skipped: {cluster.reason}"
    return replace(
        cluster, source_id=member.source_id, source_type=SourceType.INSTANCE, reason=note
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
