"""Wires settings and clients into the four services (composition root)."""

from __future__ import annotations

from dataclasses import dataclass

from rds_snapshot_manager.adapters.kms import KmsAdapter
from rds_snapshot_manager.adapters.ledger import LedgerAdapter
from rds_snapshot_manager.adapters.notifier import Notifier
from rds_snapshot_manager.adapters.rds import RdsAdapter
from rds_snapshot_manager.adapters.targets_file import TargetsFile
from rds_snapshot_manager.clients import Clients
from rds_snapshot_manager.services.check import CheckService
from rds_snapshot_manager.services.create import CreateService
from rds_snapshot_manager.services.notify import NotifyService
from rds_snapshot_manager.services.prune import PruneService
from rds_snapshot_manager.services.reconcile import Reconciler
from rds_snapshot_manager.settings import Settings


@dataclass(frozen=True)
class Engine:
    settings: Settings
    create: CreateService
    check: CheckService
    prune: PruneService
    notify: NotifyService

    @classmethod
    def build(cls, settings: Settings, clients: Clients) -> Engine:
        # Adapters hold a client but call it only when a step needs it, so clients stay lazy.
        rds = RdsAdapter(clients.rds)
        ledger = LedgerAdapter(clients.dynamodb, settings.ledger_table, settings.ledger_ttl_days)
        targets_file = (
            TargetsFile(clients.s3, settings.targets_s3_bucket, settings.targets_s3_key)
            if settings.targets_s3_bucket
            else None
        )

        def rds_in(region: str) -> RdsAdapter:  # a destination region of copies
            return RdsAdapter(clients.rds_in(region))

        reconciler = Reconciler(settings, rds, rds_in, lambda: KmsAdapter(clients.kms_in))
        return cls(
            settings=settings,
            create=CreateService(settings, rds, ledger, targets_file),
            check=CheckService(settings, rds, ledger, reconciler),
            prune=PruneService(settings, rds, ledger, rds_in),
            notify=NotifyService(settings, ledger, Notifier(clients.sns)),
        )
