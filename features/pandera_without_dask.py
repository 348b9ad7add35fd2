"""pandera told that Dask typing is absent, so building a schema never imports Dask.

pandera learns which DataFrame libraries exist by importing them the first time a schema is
built (`pandera.typing.get_index_types` imports `pandera.typing.dask`, which imports
`dask.dataframe`): with Dask installed for scale-out that is 1.3 s and about 60 MB in every
command, before any row is read. The contracts here validate pandas frames only (shards are
pandas frames on the workers too), so pandera's Dask typing module is registered as one that
found no Dask. Imported by `features` and `models` before pandera builds anything.
"""

from __future__ import annotations

import sys
import types

_MODULE = "pandera.typing.dask"


def register() -> None:
    """Put a stand-in for pandera's Dask typing module in place, unless pandera has already
    imported the real one (then Dask is loaded anyway and nothing is gained)."""
    if _MODULE not in sys.modules:
        stand_in = types.ModuleType(_MODULE, "pandera's Dask typing, left out (see "
                                             "features.pandera_without_dask)")
        stand_in.DASK_INSTALLED = False  # type: ignore[attr-defined]
        sys.modules[_MODULE] = stand_in


register()
