"""Reference pages generated from the code so they cannot drift: docs/cli.md and docs/plugins.md."""
