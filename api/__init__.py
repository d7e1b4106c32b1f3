"""The chunyun service: FastAPI application, persistence and the `chunyun` command line."""
