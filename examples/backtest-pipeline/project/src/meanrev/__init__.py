"""Mean-reversion backtest on a deterministic synthetic price series."""

from importlib import metadata as _metadata

try:
    __version__ = _metadata.version("meanrev")
except _metadata.PackageNotFoundError:  # running from a source checkout
    __version__ = "0+unknown"

from .strategy import DEFAULT_ENTRY_Z, DEFAULT_EXIT_Z, DEFAULT_LOOKBACK, backtest, synthetic_prices

__all__ = [
    "DEFAULT_ENTRY_Z",
    "DEFAULT_EXIT_Z",
    "DEFAULT_LOOKBACK",
    "__version__",
    "backtest",
    "synthetic_prices",
]
