"""LocalStack extension for running rds-snapshot-manager fully offline.

- ``rds:moto`` and ``dynamodb:moto``: providers that hand every operation to LocalStack's moto.
- ``host``: a Lambda runtime executor that runs functions as host Python processes.
"""
