"""Orchestration of one run: create, check, prune, notify. Adapters in, small summaries out."""
