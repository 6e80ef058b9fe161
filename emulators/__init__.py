"""Local stack for the media pipeline: Postgres, Cloud Storage, Pub/Sub and Firestore emulators,
a Pub/Sub push router and the Cloud Functions, all started on this machine without Docker.

Entry points: `python -m emulators up` (CLI) and `emulators.stack.LocalStack` (library). This
package imports nothing heavy at import time; each service module loads its clients on use.
"""
