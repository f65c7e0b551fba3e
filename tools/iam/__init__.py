"""IAM proof of the module's roles: render, lint, evaluate (docs/IAM_PROOF.md)."""
