"""RDS, DynamoDB and KMS served entirely by moto.

Community LocalStack has no RDS, and its DynamoDB downloads DynamoDB Local at start-up. moto
emulates both in-process. KMS is moto's too (``kms:moto``), so that the keys a client creates are
the keys moto's RDS checks a copy's ``KmsKeyId`` against: LocalStack's own KMS works offline but
keeps its keys apart, and RDS then refuses every one of them (``KMSKeyNotAccessibleFault``).
``MotoFallbackDispatcher`` only forwards operations a provider object defines, so the dispatch
table here maps every operation of the service spec to moto instead.
New RDS snapshots and copies can be made to take time, as in RDS (``snapshot_timing``); copies,
shares and default encryption keys follow RDS's rules more closely (``snapshot_copies``).
"""

from localstack.aws.skeleton import DispatchTable
from localstack.aws.spec import load_service
from localstack.services.moto import _proxy_moto
from localstack.services.plugins import Service, aws_provider

from localstack_offline import snapshot_copies, snapshot_timing


class _MotoProvider:
    """The provider object LocalStack's ``Service`` needs: only its ``service`` name is read."""

    def __init__(self, service: str) -> None:
        self.service = service


def _dispatch_everything_to_moto(provider: _MotoProvider) -> DispatchTable:
    return dict.fromkeys(load_service(provider.service).operation_names, _proxy_moto)


def _moto_service(service: str) -> Service:
    return Service.for_provider(
        _MotoProvider(service), dispatch_table_factory=_dispatch_everything_to_moto
    )


@aws_provider(api="rds", name="moto")
def rds_moto() -> Service:
    snapshot_timing.install(snapshot_timing.create_seconds())
    snapshot_copies.install()
    return _moto_service("rds")


@aws_provider(api="dynamodb", name="moto")
def dynamodb_moto() -> Service:
    return _moto_service("dynamodb")


@aws_provider(api="kms", name="moto")
def kms_moto() -> Service:
    snapshot_copies.install()
    return _moto_service("kms")
