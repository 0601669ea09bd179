"""Running: replications, sweeps, executors and the results store on disk."""
