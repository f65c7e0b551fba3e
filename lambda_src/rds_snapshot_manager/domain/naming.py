"""Snapshot identifiers: valid for RDS, length-limited, deterministic per (name, run, source), and
starting with the deployment's ownership prefix (docs/ARCHITECTURE.md, "Ownership")."""

from __future__ import annotations

import functools
import hashlib
import re
import unicodedata
from datetime import datetime

from rds_snapshot_manager.domain.model import Snapshot, SourceRef, SourceType

MAX_LENGTH = {SourceType.INSTANCE: 255, SourceType.CLUSTER: 63}
HASH_LENGTH = 8
_INVALID = re.compile(r"[^a-z0-9-]+")
_HYPHENS = re.compile(r"-{2,}")
VALID_ID = re.compile(r"^[a-zA-Z](?:[a-zA-Z0-9]|-(?=[a-zA-Z0-9]))*$")
# RDS tag values (API_Tag, https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_Tag.html):
# at most 256 Unicode letters, digits, white space and `_.:/=+-@`, not starting with aws: or rds:.
TAG_VALUE_LIMIT = 256
_TAG_PUNCTUATION = frozenset("_.:/=+-@")
_RESERVED_TAG_PREFIXES = ("aws:", "rds:")


@functools.cache
def ownership_prefix(name: str) -> str:
    """`rsm-<first 8 hex of sha256(name)>-`: every snapshot this deployment creates starts with it
    (Terraform's `local.snapshot_id_prefix`, and the IAM resource pattern, compute the same)."""
    return f"rsm-{hashlib.sha256(name.encode()).hexdigest()[:HASH_LENGTH]}-"


def _marked(snapshot: Snapshot, name: str) -> bool:
    return snapshot.managed_by == name and snapshot.snapshot_id.startswith(ownership_prefix(name))


def is_ours(snapshot: Snapshot, name: str) -> bool:
    """The ownership rule: a (manual) snapshot is this deployment's iff its id starts with the
    deployment's prefix AND it carries `ManagedBy = name`. A person's copy made with CopyTags has
    the tag but not the prefix; an older version's snapshot has the tag but not the prefix.

    A copy (D8) is not an original: one tagged `CopySourceRegion` belongs to the deployment of
    that region (a same-named deployment in our destination region never prunes our copies, nor
    we theirs), and a `ShareCopyOf` copy is deleted with its original, never on its own."""
    return (
        _marked(snapshot, name)
        and snapshot.copy_source_region is None
        and snapshot.share_copy_of is None
    )


def is_our_copy(snapshot: Snapshot, name: str, home_region: str) -> bool:
    """Ours-as-copy, in a destination region (D8): prefix, `ManagedBy` and `CopySourceRegion` =
    our home region."""
    return _marked(snapshot, name) and snapshot.copy_source_region == home_region


def is_our_share_copy(snapshot: Snapshot, name: str) -> bool:
    """A re-encrypted shareable copy this deployment made (home region): prefix, `ManagedBy`,
    `ShareCopyOf` and no `CopySourceRegion`."""
    return (
        _marked(snapshot, name)
        and snapshot.share_copy_of is not None
        and snapshot.copy_source_region is None
    )


def share_copy_id(original_id: str, name: str) -> str:
    """The id of the re-encrypted shareable copy of `original_id` (D8): prefix + `s-` + the rest
    of the original id, the stem cut (its trailing hash kept) to stay valid within 63 characters
    (the shorter limit, so one rule serves instance and cluster snapshots). Deterministic."""
    prefix = ownership_prefix(name)
    rest = original_id.removeprefix(prefix)
    room = MAX_LENGTH[SourceType.CLUSTER] - len(prefix) - 2
    if len(rest) > room:
        digest = hashlib.sha256(rest.encode()).hexdigest()[:HASH_LENGTH]
        rest = rest[: room - HASH_LENGTH - 1].rstrip("-") + "-" + digest
    return f"{prefix}s-{rest}"


def snapshot_id(name: str, run_id: str, source: SourceRef, run_time: datetime) -> str:
    """`<prefix><source>-<yyyymmddHHMM>-<hash of name, run and source>`, the source part cut so the
    whole fits (255 characters for an instance snapshot, 63 for a cluster snapshot).

    The hash makes ids distinct across deployments sharing an account and across runs, and the
    same for a retried step of the same run, so a retry meets its own snapshot.
    """
    digest = hashlib.sha256(
        "\n".join((name, run_id, source.source_type, source.source_id)).encode()
    ).hexdigest()[:HASH_LENGTH]
    prefix = ownership_prefix(name)
    suffix = f"{run_time:%Y%m%d%H%M}-{digest}"
    room = MAX_LENGTH[source.source_type] - len(prefix) - len(suffix) - 1
    stem = sanitise(source.source_id)[:room].strip("-")
    return prefix + (f"{stem}-" if stem else "") + suffix


def is_valid_snapshot_id(value: str, source_type: SourceType) -> bool:
    return len(value) <= MAX_LENGTH[source_type] and VALID_ID.match(value) is not None


def sanitise(source_id: str) -> str:
    """Lowercase letters, digits and single hyphens; the prefix already starts with a letter."""
    return _HYPHENS.sub("-", _INVALID.sub("-", source_id.lower())).strip("-")


def tag_value(text: str) -> str:
    """`text` as a valid RDS tag value: other white space (tabs, new lines) becomes a space, any
    other character outside the charset `_`, a reserved `aws:`/`rds:` start gets a `_` before it,
    and the whole is cut to TAG_VALUE_LIMIT characters."""
    cleaned = "".join(
        char
        if unicodedata.category(char)[0] in "LNZ" or char in _TAG_PUNCTUATION
        else " "
        if char.isspace()
        else "_"
        for char in text.strip()
    )
    if cleaned.lower().startswith(_RESERVED_TAG_PREFIXES):
        cleaned = "_" + cleaned
    return cleaned[:TAG_VALUE_LIMIT]
