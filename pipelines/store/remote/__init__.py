"""A data dir in object storage (`s3://bucket/prefix`), worked on through a local copy.

Every guarantee of the data dir (atomic renames, the `staged` link, crash recovery of
`scored/.partial/`, file locks, owner-only files, the SQLite MLflow store) is a local
filesystem's, so a command never works on the bucket itself: it works on a local working copy
under `CHURN_CACHE_DIR` (`location`), pulled from the bucket before the command and pushed
back after it succeeded (`sync`, driven by `session` from `pipelines.cli_common`).

In the bucket:
- `<prefix>/raw/**` and `<prefix>/sources.yaml` are the inputs, under their own names, so
  exports are uploaded with any S3 tool; pulled by size and ETag.
- everything the pipeline writes is content-addressed, `<prefix>/objects/<sha256>`, and
  listed by a commit, `<prefix>/commits/<generation>.json` (path -> sha256, size; links such
  as `staged` and `scored/latest`). A push uploads the objects first and the commit last,
  created only if no commit of that generation exists: a killed push leaves the previous
  commit, whole, as the state, and a second writer's push is refused instead of merged.
"""

from pipelines.store.remote.location import RemoteDataDir, RemoteStoreError, is_remote

__all__ = ["RemoteDataDir", "RemoteStoreError", "is_remote"]
