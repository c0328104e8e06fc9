"""The users API (manage-my-damn-life-compatible): `/api/login` and `/api/users/...`."""
