"""The production stores on Elasticsearch (plain code): the connection both stores share, index
templates and aliases (`index`), bulk writes and paged reads (`docs`), frames <-> documents
(`frames`) and the feedback store (`feedback`). The Dagster IO manager over them lives in
`eswi_assets.resources.elasticsearch_io`."""
