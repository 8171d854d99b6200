"""`meanrev-backtest`: runs the backtest and writes DIR/results.json."""

import argparse
import json
import os
import sys

from . import __version__
from .strategy import DEFAULT_ENTRY_Z, DEFAULT_EXIT_Z, DEFAULT_LOOKBACK, backtest, synthetic_prices


def backtest_main(argv=None):
    parser = argparse.ArgumentParser(prog="meanrev-backtest", description=__doc__)
    parser.add_argument("--output", required=True, metavar="DIR", help="folder for results.json")
    parser.add_argument("--days", type=int, default=500, help="length of the price series (default 500)")
    parser.add_argument("--seed", type=int, default=42, help="seed of the synthetic series (default 42)")
    parser.add_argument("--lookback", type=int, default=DEFAULT_LOOKBACK)
    parser.add_argument("--entry-z", type=float, default=DEFAULT_ENTRY_Z)
    parser.add_argument("--exit-z", type=float, default=DEFAULT_EXIT_Z)
    parser.add_argument("--version", action="version", version=f"meanrev {__version__}")
    args = parser.parse_args(argv)
    if args.days < args.lookback + 1:
        parser.error(f"--days must be greater than --lookback ({args.lookback})")

    prices = synthetic_prices(args.days, seed=args.seed)
    metrics = backtest(prices, lookback=args.lookback, entry_z=args.entry_z, exit_z=args.exit_z)
    results = {
        "package": "meanrev",
        "version": __version__,
        "params": {
            "days": args.days,
            "seed": args.seed,
            "lookback": args.lookback,
            "entry_z": args.entry_z,
            "exit_z": args.exit_z,
        },
        "metrics": metrics,
    }
    os.makedirs(args.output, exist_ok=True)
    path = os.path.join(args.output, "results.json")
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(results, f, indent=2, sort_keys=True)
        f.write("\n")
    os.replace(tmp, path)
    print(
        f"meanrev {__version__}: days={args.days} lookback={args.lookback} "
        f"pnl={metrics['pnl']:.2f} sharpe={metrics['sharpe']:.2f} "
        f"max_drawdown={metrics['max_drawdown']:.2f} trades={metrics['trades']} -> {path}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(backtest_main())
