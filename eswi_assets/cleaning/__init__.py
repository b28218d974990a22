"""Plain cleaning code behind `cleaned_corpus`: raw pages in, clean Traditional-Chinese docs out.

One module per concern: `extract` (trafilatura), `chinese` (OpenCC, script detection), `pii`
(typed redaction), `quality` (length and CJK-share rules), `dedup` (exact + MinHash LSH), and
`pipeline`, which orders them and keeps the books. Nothing here imports Dagster.
"""
