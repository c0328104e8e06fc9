"""Plumbing shared by every Tessera service: configuration, app base, database, Redis,
sessions, events, internal HTTP and observability."""
