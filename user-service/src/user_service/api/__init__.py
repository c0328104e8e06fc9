"""The API family user-service serves: v0's profiles, images and search."""
