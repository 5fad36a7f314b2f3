"""sim's bundled plugins, installed as `sim_plugins`.

They use only sim's public API (`from simulator import ...`), exactly as a third-party plugin
would, and register through the same hooks.
"""
