"""Plain statistics on what the pipeline produced (tested without Dagster)."""
