"""The v0 (AxumKit-compatible) API: sign-up and password authentication."""
