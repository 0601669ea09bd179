"""The back-test command's defaults, in a module that imports nothing, so that the command line
can build its parser (``valuechain backtest --help``) without loading the model."""

# the command's default shock paths (replications; of every parameter draw): at the scenarios' 5
# one path moves the held-out rows' 2.5-97.5% band by up to 93% of its width (replications
# alone); at 20 by at most 24%, the width within 12% of the width at 40 (benchmarks/backtest_replications.py;
# docs/calibration.md §14.17)
BACKTEST_REPLICATIONS = 20
