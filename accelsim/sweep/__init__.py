"""Design-space exploration: sweep files (spec), their points, a SQLite store every finished
point is committed to at once, executors (in process, a process pool, Dask), searches, the
closed-form fast path and the Pareto front. See docs/sweeps.md."""
