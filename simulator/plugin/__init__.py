"""The plugin system: what plugins contribute (components), the hooks they implement, the host that
finds and calls them, and the tools built on it (catalog, JSON schema, scaffold)."""
