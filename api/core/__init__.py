"""Configuration, database engine and security primitives of the service."""
