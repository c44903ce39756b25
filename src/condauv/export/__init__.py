"""``condauv export``: the lock in the formats other tools read."""
