"""The organisation audit: several account snapshots audited as one organisation, each account and
each cross-account pair of accounts one unit of work (JSON text in, JSON text out), run in this
process, on a local pool of worker processes or on a Dask cluster, resumable from an output directory."""
