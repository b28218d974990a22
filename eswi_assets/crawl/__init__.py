"""Plain crawl code behind `raw_pages`: source config, robots.txt, HTTP and Chromium fetchers,
and the breadth-first crawl loop. Nothing here imports Dagster, so all of it is testable alone.
"""
