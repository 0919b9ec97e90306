"""A run's figures as a table with named columns: one row per logged step (or per scored epoch).

    history = History(("step", "epoch", "d_loss", "g_loss"))
    history.extend(rows)            # an (m, 4) array of new rows
    history["d_loss"]               # a column, (n,) float64
    history[-1]                     # the last row, as a tuple
    history.where("epoch", 3)       # the rows of epoch 3, a History
    history.array                   # the whole table, (n, 4) float64: what checkpoints and CSV files hold

The rows are float64 (steps and epochs are whole numbers stored exactly). A checkpoint
written when a table had fewer columns loads with the missing columns as NaN
(:meth:`History.from_array`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np


class History:
    """Rows of figures under the names ``columns``."""

    def __init__(self, columns: Sequence[str], rows: Any = None) -> None:
        self.columns = tuple(columns)
        self._rows: list[tuple[float, ...]] = []
        if rows is not None:
            self.extend(rows)

    @classmethod
    def from_array(cls, columns: Sequence[str], array: Any) -> History:
        """A table from an (n, k) array with k <= len(columns): the first k columns, the rest NaN."""
        array = np.asarray(array, dtype=np.float64)
        array = array if array.ndim == 2 else array.reshape(len(array), -1)
        if array.shape[1] > len(columns):
            raise ValueError(f"History: expected at most {len(columns)} columns {columns}, got {array.shape[1]}")
        missing = np.full((len(array), len(columns) - array.shape[1]), np.nan)
        return cls(columns, np.hstack([array, missing]))

    def append(self, row: Sequence[float]) -> None:
        """Add one row (a value for every column, in order)."""
        if len(row) != len(self.columns):
            raise ValueError(f"History: expected a row of {len(self.columns)} values {self.columns}, got {len(row)}")
        self._rows.append(tuple(float(v) for v in row))

    def extend(self, rows: Any) -> None:
        """Add the rows of an (m, len(columns)) array."""
        for row in np.asarray(rows, dtype=np.float64).reshape(-1, len(self.columns)).tolist():
            self._rows.append(tuple(row))

    @property
    def array(self) -> np.ndarray:
        """The table, (n, len(columns)) float64."""
        return np.asarray(self._rows, dtype=np.float64).reshape(-1, len(self.columns))

    def where(self, column: str, value: float) -> History:
        """The rows whose ``column`` equals ``value``."""
        i = self._index(column)
        return History(self.columns, [row for row in self._rows if row[i] == value])

    def _index(self, column: str) -> int:
        if column not in self.columns:
            raise KeyError(f"History: no column {column!r}; the columns are {self.columns}")
        return self.columns.index(column)

    def __getitem__(self, key: str | int) -> Any:
        """``history["name"]``: the column (n,); ``history[i]``: row i as a tuple."""
        if isinstance(key, str):
            return self.array[:, self._index(key)]
        return self._rows[key]

    def __len__(self) -> int:
        return len(self._rows)

    def __iter__(self) -> Iterator[tuple[float, ...]]:
        return iter(self._rows)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return self.array if dtype is None else self.array.astype(dtype)
