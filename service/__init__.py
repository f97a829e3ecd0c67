"""The HTTP service (FastAPI) and the `ragqa` command line over the retrieval engine."""
