"""The API family events-service serves: v0's action log and its live stream."""
