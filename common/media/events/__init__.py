"""Events: the objects a camera cares about, from the tracks analysis stored (no media is
processed again). `build` makes them in the analysis transaction, `continuity` decides when a
recording continues the previous one's event, `listing` and `review` serve the API, `removal`
keeps them in step with deleted media. docs/CONTRACTS.md, "Events"."""
