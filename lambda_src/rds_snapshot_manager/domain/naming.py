"""Snapshot identifiers: valid for RDS, length-limited, deterministic per (name, run, source)."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime

from rds_snapshot_manager.domain.model import SourceRef, SourceType

MAX_LENGTH = {SourceType.INSTANCE: 255, SourceType.CLUSTER: 63}
HASH_LENGTH = 8
_INVALID = re.compile(r"[^a-z0-9-]+")
_HYPHENS = re.compile(r"-{2,}")
VALID_ID = re.compile(r"^[a-zA-Z](?:[a-zA-Z0-9]|-(?=[a-zA-Z0-9]))*$")


def snapshot_id(name: str, run_id: str, source: SourceRef, run_time: datetime) -> str:
    """`<source>-<yyyymmddHHMM>-<hash of name, run and source>`, the source part cut to fit.

    The hash makes ids distinct across deployments sharing an account and across runs, and the
    same for a retried step of the same run, so a retry meets its own snapshot.
    """
    digest = hashlib.sha256(
        "\n".join((name, run_id, source.source_type, source.source_id)).encode()
    ).hexdigest()[:HASH_LENGTH]
    suffix = f"-{run_time:%Y%m%d%H%M}-{digest}"
    stem = _sanitise(source.source_id)
    stem = stem[: MAX_LENGTH[source.source_type] - len(suffix)].rstrip("-")
    return stem + suffix


def is_valid_snapshot_id(value: str, source_type: SourceType) -> bool:
    return len(value) <= MAX_LENGTH[source_type] and VALID_ID.match(value) is not None


def _sanitise(source_id: str) -> str:
    stem = _HYPHENS.sub("-", _INVALID.sub("-", source_id.lower())).strip("-")
    if not stem or not stem[0].isalpha():
        stem = f"s-{stem}".rstrip("-")
    return stem
