"""The v0 (AxumKit-compatible) API: profile endpoints."""
