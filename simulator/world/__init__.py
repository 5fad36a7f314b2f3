"""The world file: its schema, reading TOML into it with errors that name the line, the values that
vary per frame, and typed plugin parameters."""
