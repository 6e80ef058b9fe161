"""The stream service (Server-Sent Events): `main.py` is its entry point."""
