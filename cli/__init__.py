"""Device-side tools: the `mediactl` CLI and the end-to-end demo."""
