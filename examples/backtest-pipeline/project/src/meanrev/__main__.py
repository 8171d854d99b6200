from .cli import backtest_main

raise SystemExit(backtest_main())
