"""ESWI pipeline: Dagster code location."""
