"""The `tessera` command: run the platform, migrate it, test it."""
