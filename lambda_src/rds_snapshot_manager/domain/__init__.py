"""Pure domain logic: no boto3, no clock, no I/O. Adapters feed it; services orchestrate."""
