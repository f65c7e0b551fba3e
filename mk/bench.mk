# Owned by the bench work; filled in by its issue.
