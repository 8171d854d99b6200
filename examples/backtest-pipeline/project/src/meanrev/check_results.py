"""`meanrev-check`: validates a results.json against thresholds (for test jobs).

Exit status 0 when every check passes, 1 when one fails, 2 on a bad file.
"""

import argparse
import json
import sys


def check(results, min_sharpe=None, max_drawdown=None, min_trades=None, version=None):
    """Returns the list of failed checks, each a human-readable sentence."""
    failures = []
    metrics = results.get("metrics", {})
    for key in ("pnl", "sharpe", "max_drawdown", "trades"):
        if not isinstance(metrics.get(key), (int, float)):
            failures.append(f"metrics.{key} is missing or not a number")
    if failures:
        return failures
    if min_sharpe is not None and metrics["sharpe"] < min_sharpe:
        failures.append(f"sharpe {metrics['sharpe']:.4f} < {min_sharpe}")
    if max_drawdown is not None and metrics["max_drawdown"] > max_drawdown:
        failures.append(f"max_drawdown {metrics['max_drawdown']:.4f} > {max_drawdown}")
    if min_trades is not None and metrics["trades"] < min_trades:
        failures.append(f"trades {metrics['trades']} < {min_trades}")
    if version is not None and results.get("version") != version:
        failures.append(f"version {results.get('version')!r} != {version!r}")
    return failures


def main(argv=None):
    parser = argparse.ArgumentParser(prog="meanrev-check", description=__doc__)
    parser.add_argument("results", help="path of a results.json written by meanrev-backtest")
    parser.add_argument("--min-sharpe", type=float)
    parser.add_argument("--max-drawdown", type=float)
    parser.add_argument("--min-trades", type=int)
    parser.add_argument("--version", dest="expect_version", help="expected package version")
    args = parser.parse_args(argv)
    try:
        with open(args.results, encoding="utf-8") as f:
            results = json.load(f)
    except (OSError, ValueError) as e:
        print(f"meanrev-check: cannot read {args.results}: {e}", file=sys.stderr)
        return 2
    failures = check(results, args.min_sharpe, args.max_drawdown, args.min_trades, args.expect_version)
    if failures:
        for failure in failures:
            print(f"FAIL {failure}")
        return 1
    m = results["metrics"]
    print(f"OK meanrev {results.get('version')}: sharpe={m['sharpe']:.2f} max_drawdown={m['max_drawdown']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
