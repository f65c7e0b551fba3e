"""Cross-region copies, sharing and encryption keys of moto's RDS, closer to RDS.

moto already copies DB and DB cluster snapshots across regions (the source given as the ARN of
another region's snapshot, ``KmsKeyId`` checked against the destination region's KMS keys,
``CopyTags``, ``Tags``) and keeps the ``restore`` attribute of ModifyDB[Cluster]SnapshotAttribute.
What it does not do, and RDS does, is added here on moto's RDS backend class:

- **Encrypted with the AWS managed key.** A database created encrypted without ``KmsKeyId``
  reports the literal ``default_kms_key_id`` in moto. RDS uses the region's AWS managed key
  ``alias/aws/rds``; here it gets that key's ARN from moto's KMS, and that key reports
  ``KeyManager: AWS`` (moto says ``CUSTOMER`` for every key), so ``kms:DescribeKey`` tells a
  default-key snapshot from a customer-managed one, as on AWS.
- **A copy needs an available source** (RDS: "The source DB snapshot must be in the available
  state"): ``InvalidDBSnapshotState`` / ``InvalidDBClusterSnapshotStateFault`` otherwise.
- **An encrypted source copied to another region needs ``KmsKeyId``** of a key in the destination
  region (RDS API reference, CopyDBSnapshot ``KmsKeyId``; the error code is not documented, the
  emulator answers ``InvalidParameterValue``).
- **A copy takes time.** With ``RDS_SNAPSHOT_CREATE_SECONDS`` above 0 a new copy is ``copying``
  until that many seconds after the call, then ``available`` (the same describes that finish a
  new snapshot, ``snapshot_timing``).
- **Sharing refusals.** ``restore`` = ``all`` (public) is refused for an encrypted snapshot (RDS
  API reference, ModifyDBSnapshotAttribute), and any share of a snapshot encrypted with the AWS
  managed key is refused (RDS User Guide, "Sharing encrypted snapshots": such a snapshot can't be
  shared); both ``InvalidParameterValue`` here.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from moto.kms.models import KmsBackend
from moto.rds.exceptions import (
    InvalidDBClusterSnapshotStateFault,
    InvalidParameterValue,
    RDSClientError,
)
from moto.rds.models import RDSBackend

from localstack_offline import snapshot_timing

MOTO_DEFAULT_KEY = "default_kms_key_id"
RDS_MANAGED_KEY_ALIAS = "alias/aws/rds"
Method = Callable[..., Any]


def _aws_managed_default_keys(generate: Method) -> Method:
    """moto makes the key behind a reserved alias (``alias/aws/rds``) on first use; AWS manages
    that key, so it says ``KeyManager: AWS``."""

    @functools.wraps(generate)
    def generate_aws_managed(self: KmsBackend, alias_name: str) -> str | None:
        key_id = generate(self, alias_name)
        if key_id is not None:
            self.keys[key_id].key_manager = "AWS"
        return key_id

    return generate_aws_managed


def managed_key_arn(backend: RDSBackend) -> str:
    """The ARN of the region's AWS managed RDS key (made on first use, as AWS does)."""
    return str(backend.kms.describe_key(RDS_MANAGED_KEY_ALIAS).arn)


def _encrypted_with_managed_key(create: Method) -> Method:
    """A database created encrypted without KmsKeyId uses the region's AWS managed key."""

    @functools.wraps(create)
    def create_with_key(self: RDSBackend, *args: Any, **kwargs: Any) -> Any:
        database = create(self, *args, **kwargs)
        if database.storage_encrypted and database.kms_key_id in (None, MOTO_DEFAULT_KEY):
            database.kms_key_id = managed_key_arn(self)
        return database

    return create_with_key


def _source_backend(backend: RDSBackend, source: str) -> RDSBackend:
    """The backend of the source's region: another region when the source is an ARN."""
    parts = source.split(":")
    if source.startswith("arn:") and len(parts) > 3 and parts[3] != backend.region_name:
        other: RDSBackend = backend.get_backend("rds", region=parts[3])
        return other
    return backend


def _bound(method: Method) -> Callable[..., dict[str, Any]]:
    """moto's responses pass the parameters by name; this reads them whichever way they come."""
    signature = inspect.signature(method)
    return lambda *args, **kwargs: signature.bind(*args, **kwargs).arguments


def _checked_copy(kind: str) -> Callable[[Method], Method]:
    """``kind``: ``db`` or ``db_cluster``, as in moto's parameter names."""

    def wrap(copy: Method) -> Method:
        arguments = _bound(copy)

        @functools.wraps(copy)
        def copy_checked(self: RDSBackend, *args: Any, **kwargs: Any) -> Any:
            named = arguments(self, *args, **kwargs)
            source = str(named[f"source_{kind}_snapshot_identifier"])
            backend = _source_backend(self, source)
            found = (
                backend.get_db_cluster_snapshot if kind == "db_cluster" else backend.get_db_snapshot
            )
            snapshot = found(source)  # NotFound as moto answers it
            snapshot_timing.settle(snapshot)
            if snapshot.status != "available":
                message = f"Snapshot {source} is {snapshot.status}; a copy needs it available."
                if kind == "db_cluster":
                    raise InvalidDBClusterSnapshotStateFault(message)
                raise RDSClientError("InvalidDBSnapshotState", message)
            if backend is not self and snapshot.encrypted and not named.get("kms_key_id"):
                raise InvalidParameterValue(
                    f"Snapshot {source} is encrypted: a copy to {self.region_name} needs "
                    f"KmsKeyId, a KMS key of {self.region_name}."
                )
            copied = copy(self, *args, **kwargs)
            if snapshot_timing.installed():
                copied.status = snapshot_timing.COPYING  # until settled, as a new snapshot
            return copied

        return copy_checked

    return wrap


def _share_refusals(kind: str) -> Callable[[Method], Method]:
    def wrap(modify: Method) -> Method:
        arguments = _bound(modify)

        @functools.wraps(modify)
        def modify_checked(self: RDSBackend, *args: Any, **kwargs: Any) -> Any:
            named = arguments(self, *args, **kwargs)
            adding = named.get("values_to_add") or []
            if named["attribute_name"] == "restore" and adding:
                snapshot_id = str(named[f"{kind}_snapshot_identifier"])
                found = (
                    self.get_db_cluster_snapshot if kind == "db_cluster" else self.get_db_snapshot
                )
                snapshot = found(snapshot_id)
                if snapshot.encrypted and "all" in adding:
                    raise InvalidParameterValue(
                        f"Snapshot {snapshot_id} is encrypted: it can't be made public (all)."
                    )
                if snapshot.encrypted and snapshot.kms_key_id == managed_key_arn(self):
                    raise InvalidParameterValue(
                        f"Snapshot {snapshot_id} is encrypted with the AWS managed key "
                        f"{RDS_MANAGED_KEY_ALIAS} and can't be shared; copy it with a "
                        "customer-managed key and share the copy."
                    )
            return modify(self, *args, **kwargs)

        return modify_checked

    return wrap


def install() -> None:
    """Wraps moto's KMS and RDS backend classes once per process."""
    if getattr(RDSBackend, "rsm_snapshot_copies", False):
        return
    KmsBackend._generate_default_keys = _aws_managed_default_keys(  # type: ignore[method-assign]
        KmsBackend._generate_default_keys
    )
    for name in ("create_db_instance", "create_db_cluster"):
        setattr(RDSBackend, name, _encrypted_with_managed_key(getattr(RDSBackend, name)))
    for kind in ("db", "db_cluster"):
        copy, modify = f"copy_{kind}_snapshot", f"modify_{kind}_snapshot_attribute"
        setattr(RDSBackend, copy, _checked_copy(kind)(getattr(RDSBackend, copy)))
        setattr(RDSBackend, modify, _share_refusals(kind)(getattr(RDSBackend, modify)))
    RDSBackend.rsm_snapshot_copies = True  # type: ignore[attr-defined]
