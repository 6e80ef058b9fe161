"""Long-running services of the API that are not functions (`services/streams`)."""
