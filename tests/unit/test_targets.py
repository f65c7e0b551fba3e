from rds_snapshot_manager.domain.model import Database, Outcome, SourceRef, SourceType
from rds_snapshot_manager.domain.targets import (
    TargetRequest,
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
