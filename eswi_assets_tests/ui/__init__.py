"""The Dagster UI, checked in headless Chromium."""
