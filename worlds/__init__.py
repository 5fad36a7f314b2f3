"""The bundled worlds, installed as `sim_worlds`: `sim worlds` lists them and `sim run NAME`
runs one from any directory. Each is a world file (`NAME.toml`) with its assets beside it."""
