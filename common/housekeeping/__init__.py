"""Work nobody asked for in a request: ending dead-lettered work, re-driving stuck rows, retention.

Driven by Pub/Sub: Cloud Scheduler publishes ticks to the `housekeeping` topic (the local stack
publishes the same ticks on a timer, from `topology.json` "schedules"), and the dead-letter topic
is pushed here too; `functions/housekeeping` is the adapter.
"""
