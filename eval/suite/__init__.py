"""`braid bench`: every retriever alone and every fusion variant over BEIR / MS MARCO sets, with
run files, per-query metrics, significance tests, tables and plots."""
