"""Finding a column by its whole header only.

`base.find_column` falls back to a header's core (without units and notes), which is right
for `Total (EUR)` but wrong where a system's labels differ only by their notes: the core of
`Order Total Amount (- Refund)` is `Order Total Amount`, and that of `Bedrag excl. btw` is
`Bedrag`. Presets reading such exports look their money columns up with `whole_column`.
"""

from __future__ import annotations

import pandas as pd

from pipelines.ingest.headers import fold_header


def whole_column(frame: pd.DataFrame, *names: str) -> str | None:
    """The header of `frame` whose whole folded form is the first of `names` present."""
    folded = {fold_header(str(h)): h for h in frame.columns}
    return next((folded[fold_header(n)] for n in names if fold_header(n) in folded), None)
