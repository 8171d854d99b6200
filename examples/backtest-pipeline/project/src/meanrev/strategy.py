"""The strategy: trade the z-score of the price against its rolling mean."""

import math
import random

# Changed in 1.1.0: the rolling window was 10 days in 1.0.0.
DEFAULT_LOOKBACK = 20
DEFAULT_ENTRY_Z = 1.0
DEFAULT_EXIT_Z = 0.25
TRADING_DAYS = 252


def synthetic_prices(days, seed=42, start=100.0, theta=0.08, sigma=1.2):
    """An Ornstein-Uhlenbeck price path around `start`: same seed, same path."""
    rng = random.Random(seed)
    prices = [start]
    for _ in range(days - 1):
        last = prices[-1]
        prices.append(max(0.01, last + theta * (start - last) + sigma * rng.gauss(0.0, 1.0)))
    return prices


def backtest(prices, lookback=DEFAULT_LOOKBACK, entry_z=DEFAULT_ENTRY_Z, exit_z=DEFAULT_EXIT_Z):
    """Runs the strategy over `prices`; returns the metrics as a dict."""
    if lookback < 2:
        raise ValueError("lookback must be at least 2")
    position = 0  # -1 short, 0 flat, +1 long, one unit
    equity = 0.0
    curve = []
    daily = []
    trades = 0
    for t in range(1, len(prices)):
        pnl = position * (prices[t] - prices[t - 1])
        equity += pnl
        daily.append(pnl)
        curve.append(equity)
        if t + 1 < lookback:
            continue
        window = prices[t + 1 - lookback : t + 1]
        mean = sum(window) / lookback
        std = math.sqrt(sum((p - mean) ** 2 for p in window) / (lookback - 1))
        if std == 0:
            continue
        z = (prices[t] - mean) / std
        target = position
        if position == 0 and z > entry_z:
            target = -1
        elif position == 0 and z < -entry_z:
            target = 1
        elif position != 0 and abs(z) < exit_z:
            target = 0
        if target != position:
            trades += 1
            position = target
    mean_daily = sum(daily) / len(daily) if daily else 0.0
    var = sum((d - mean_daily) ** 2 for d in daily) / (len(daily) - 1) if len(daily) > 1 else 0.0
    sharpe = mean_daily / math.sqrt(var) * math.sqrt(TRADING_DAYS) if var > 0 else 0.0
    peak = 0.0
    max_drawdown = 0.0
    for value in curve:
        peak = max(peak, value)
        max_drawdown = max(max_drawdown, peak - value)
    return {
        "pnl": round(equity, 6),
        "sharpe": round(sharpe, 6),
        "max_drawdown": round(max_drawdown, 6),
        "trades": trades,
    }
