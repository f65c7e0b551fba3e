"""RDS and DynamoDB served entirely by moto.

Community LocalStack has no RDS, and its DynamoDB downloads DynamoDB Local at start-up. moto
emulates both in-process. ``MotoFallbackDispatcher`` only forwards operations a provider object
defines, so the dispatch table here maps every operation of the service spec to moto instead.
New RDS snapshots can be made to take time, as in RDS (``snapshot_timing``).
"""

from localstack.aws.skeleton import DispatchTable
from localstack.aws.spec import load_service
from localstack.services.moto import _proxy_moto
from localstack.services.plugins import Service, aws_provider

from localstack_offline import snapshot_timing


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
    return _moto_service("rds")


@aws_provider(api="dynamodb", name="moto")
def dynamodb_moto() -> Service:
    return _moto_service("dynamodb")
