from rds_snapshot_manager.domain.model import (
    Database,
    Outcome,
    SourceRef,
    SourceType,
    TargetOutcome,
)
from rds_snapshot_manager.domain.targets import (
    Member,
    TargetRequest,
    covered_member,
    forbidden_state_reason,
    parse_target_list,
    resolve_targets,
)


def instance(identifier: str, cluster: str | None = None, status: str = "available",
             tags: dict[str, str] | None = None) -> Database:  # fmt: skip
    return Database(
        SourceRef(SourceType.INSTANCE, identifier),
        status,
        tuple(sorted((tags or {}).items())),
        cluster,
    )


def cluster(identifier: str, tags: dict[str, str] | None = None) -> Database:
    return Database(SourceRef(SourceType.CLUSTER, identifier), "available",
                    tuple(sorted((tags or {}).items())))  # fmt: skip


INSTANCES = [
    instance("db-a", tags={"backup": "true", "team": "x"}),
    instance("db-b", tags={"backup": "true"}),
    instance("mysql-1", cluster="aurora-mysql-c"),
    instance("pg-1", cluster="aurora-pg-c"),
    instance("pg-2", cluster="aurora-pg-c"),
]
CLUSTERS = [cluster("aurora-mysql-c"), cluster("aurora-pg-c", tags={"backup": "true"})]


def refs(request: TargetRequest) -> list[tuple[str, str]]:
    resolution = resolve_targets(request, INSTANCES, CLUSTERS)
    return [(str(t.ref.source_type), t.ref.source_id) for t in resolution.targets]


def test_list_file_accepts_lf_and_crlf_and_ignores_blanks_and_comments() -> None:
    text = "# databases\r\ndb-a\r\n\r\n  db-b  # inline\n#db-c\n\naurora-pg-c"
    assert parse_target_list(text) == ["db-a", "db-b", "aurora-pg-c"]


def test_cluster_members_of_any_engine_resolve_to_their_cluster_once() -> None:
    request = TargetRequest(instance_ids=("mysql-1", "pg-1", "pg-2"), cluster_ids=("aurora-pg-c",))
    assert refs(request) == [("cluster", "aurora-mysql-c"), ("cluster", "aurora-pg-c")]


def test_selection_tags_select_instances_and_clusters_carrying_all_tags() -> None:
    assert refs(TargetRequest(selection_tags={"backup": "true"})) == [
        ("cluster", "aurora-pg-c"), ("instance", "db-a"), ("instance", "db-b"),
    ]  # fmt: skip
    assert refs(TargetRequest(selection_tags={"backup": "true", "team": "x"})) == [
        ("instance", "db-a")
    ]


def test_union_of_all_sources_is_deduplicated() -> None:
    request = TargetRequest(
        instance_ids=("db-a", "DB-A"),
        listed_ids=("db-a", "aurora-pg-c"),
        selection_tags={"backup": "true"},
    )
    assert refs(request) == [("cluster", "aurora-pg-c"), ("instance", "db-a"), ("instance", "db-b")]


def test_unknown_identifiers_fail_with_not_found_and_others_still_resolve() -> None:
    resolution = resolve_targets(
        TargetRequest(instance_ids=("ghost", "db-a"), cluster_ids=("nope",), listed_ids=("x",)),
        INSTANCES,
        CLUSTERS,
    )
    assert [t.ref.source_id for t in resolution.targets] == ["db-a"]
    assert {(f.source_id, f.error_code, f.outcome) for f in resolution.failed} == {
        ("ghost", "NotFound", Outcome.FAILED),
        ("nope", "NotFound", Outcome.FAILED),
        ("x", "NotFound", Outcome.FAILED),
    }


def test_member_of_a_cluster_missing_from_the_listing_is_not_found() -> None:
    resolution = resolve_targets(
        TargetRequest(instance_ids=("orphan",)), [instance("orphan", cluster="gone")], []
    )
    assert resolution.targets == []
    assert [(f.source_id, f.error_code) for f in resolution.failed] == [("gone", "NotFound")]


def test_stopped_instance_has_a_skip_reason_and_available_one_has_none() -> None:
    assert forbidden_state_reason(instance("db-a")) is None
    reason = forbidden_state_reason(instance("db-a", status="stopped"))
    assert (
        reason == "instance is stopped; a snapshot needs status available or storage-optimization"
    )


def test_an_instance_and_a_cluster_sharing_an_id_are_two_targets_and_fail_apart() -> None:
    resolution = resolve_targets(
        TargetRequest(instance_ids=("shared", "both-gone"), cluster_ids=("shared", "both-gone")),
        [instance("shared")],
        [cluster("shared")],
    )
    assert [(str(t.ref.source_type), t.ref.source_id) for t in resolution.targets] == [
        ("cluster", "shared"), ("instance", "shared"),
    ]  # fmt: skip
    assert sorted((f.source_id, str(f.source_type)) for f in resolution.failed) == [
        ("both-gone", "cluster"), ("both-gone", "instance"),
    ]  # fmt: skip


def test_not_found_names_the_other_kind_when_it_exists_under_that_id() -> None:
    resolution = resolve_targets(
        TargetRequest(instance_ids=("aurora-pg-c",), cluster_ids=("db-a",)), INSTANCES, CLUSTERS
    )
    assert resolution.targets == []
    assert sorted(f.message for f in resolution.failed) == [
        "no DB cluster db-a; a DB instance db-a exists: list it in db_instance_identifiers",
        "no DB instance aurora-pg-c; a DB cluster aurora-pg-c exists: list it in "
        "db_cluster_identifiers",
    ]


def test_ids_match_case_insensitively_and_keep_the_users_spelling() -> None:
    resolution = resolve_targets(
        TargetRequest(instance_ids=("DB-A",), listed_ids=("Aurora-PG-C",)), INSTANCES, CLUSTERS
    )
    assert [t.ref.source_id for t in resolution.targets] == ["aurora-pg-c", "db-a"]
    assert resolution.shown_id(SourceRef(SourceType.INSTANCE, "db-a")) == "DB-A"
    assert resolution.shown_id(SourceRef(SourceType.CLUSTER, "aurora-pg-c")) == "Aurora-PG-C"
    assert resolution.shown_id(SourceRef(SourceType.INSTANCE, "db-b")) == "db-b"


def test_invalid_or_absurdly_long_ids_are_failed_with_a_short_id_and_message() -> None:
    long_id = "d" * 100_000
    resolution = resolve_targets(
        TargetRequest(listed_ids=("db_a", long_id, "x" * 64, "db-a\n")), INSTANCES, CLUSTERS
    )
    assert resolution.targets == []
    assert {f.error_code for f in resolution.failed} == {"InvalidIdentifier"}
    assert len(resolution.failed) == 4
    assert all(len(f.source_id) <= 63 and len(f.message) < 200 for f in resolution.failed)
    assert any(f.source_id.endswith("...(100000 chars)") for f in resolution.failed)
    # 63 characters is still a valid identifier
    assert resolve_targets(TargetRequest(listed_ids=("x" * 63,)), [], []).failed[0].error_code == (
        "NotFound"
    )


def test_listed_cluster_members_are_kept_to_be_reported_under_their_own_id() -> None:
    resolution = resolve_targets(
        TargetRequest(instance_ids=("PG-1", "pg-2", "pg-1")), INSTANCES, CLUSTERS
    )
    cluster_ref = SourceRef(SourceType.CLUSTER, "aurora-pg-c")
    assert [t.ref for t in resolution.targets] == [cluster_ref]
    assert resolution.members == [Member("PG-1", cluster_ref), Member("pg-2", cluster_ref)]


def test_a_members_outcome_mirrors_its_clusters_and_points_at_it() -> None:
    member = Member("pg-1", SourceRef(SourceType.CLUSTER, "aurora-pg-c"))
    created = TargetOutcome.created(member.cluster, "aurora-pg-c-202611250100-ab", "creating")
    covered = covered_member(member, created, "Aurora-PG-C")
    assert (covered.source_id, covered.source_type, covered.outcome) == (
        "pg-1", SourceType.INSTANCE, Outcome.CREATED,
    )  # fmt: skip
    assert (covered.snapshot_id, covered.status) == (created.snapshot_id, "creating")
    assert covered.reason == "covered by the snapshot of cluster Aurora-PG-C"
    skipped = covered_member(member, TargetOutcome.skipped(member.cluster, "not due"), "c")
    assert (skipped.outcome, skipped.reason) == (
        Outcome.SKIPPED, "covered by cluster c, skipped: not due",
    )  # fmt: skip


def test_an_id_failing_from_the_list_file_and_as_an_instance_is_reported_once() -> None:
    resolution = resolve_targets(
        TargetRequest(instance_ids=("ghost",), listed_ids=("GHOST", "other")), INSTANCES, CLUSTERS
    )
    assert sorted((f.source_id, f.source_type) for f in resolution.failed) == [
        ("ghost", SourceType.INSTANCE), ("other", None),
    ]  # fmt: skip
