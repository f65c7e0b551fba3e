"""Wires settings and clients into the services (composition root)."""

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
from rds_snapshot_manager.services.restore import RestoreService
from rds_snapshot_manager.settings import Settings


@dataclass(frozen=True)
class Engine:
    settings: Settings
    create: CreateService
    check: CheckService
    prune: PruneService
    notify: NotifyService
    restore: RestoreService

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
        create = CreateService(settings, rds, ledger, targets_file)
        restore = RestoreService(settings, rds, ledger, create.resolve)
        return cls(
            settings=settings,
            create=create,
            check=CheckService(settings, rds, ledger, reconciler),
            prune=PruneService(settings, rds, ledger, rds_in, restore),
            notify=NotifyService(settings, ledger, Notifier(clients.sns), restore),
            restore=restore,
        )
