"""Automation and deployment: jobs, executors, sensors, backfills, Helm values."""
