"""The v0 (AxumKit-compatible) API: the action log and its live stream."""
