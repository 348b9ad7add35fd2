"""The data directory: where things live and how they are written.

Owns the `Settings` (locations and service addresses, read from the environment once per
command), atomic writes (a temp file, then one rename), the versioned staged tables
(`staged/` switched as a whole) and the scoring archive (`scored/<as-of>/<run-id>/`).

May import `features` (contracts, the source-table bundle) and `models.privacy` (what the
privacy settings' values mean), nothing else of the pipeline: every other subsystem builds
on this one. `permissions` makes the stores owner-only.
"""
