"""rnnkit.nn: recurrent cells, the ``RNN`` layer stack, and dropout for recurrent networks."""

from rnnkit.errors import ShapeError
from rnnkit.nn.cells import (
    CellState,
    ElmanCell,
    FunctionalCell,
    GRUCell,
    HiddenState,
    LSTMCell,
    LSTMState,
    RecurrentCell,
    has_cell_state,
    make_cell,
)
from rnnkit.nn.dropout import LockedDropout, WordDropout, embedding_dropout
from rnnkit.nn.layers import run_stack, scan
from rnnkit.nn.ngrams import HashedNgrams
from rnnkit.nn.recurrent import RNN

__all__ = [
    "RNN",
    "CellState",
    "ElmanCell",
    "FunctionalCell",
    "GRUCell",
    "HashedNgrams",
    "HiddenState",
    "LSTMCell",
    "LSTMState",
    "LockedDropout",
    "RecurrentCell",
    "ShapeError",
    "WordDropout",
    "embedding_dropout",
    "has_cell_state",
    "make_cell",
    "run_stack",
    "scan",
]
