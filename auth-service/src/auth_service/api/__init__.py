"""The API families auth-service serves: v0 and the users API, a package each (a module per
resource, with its schemas)."""
