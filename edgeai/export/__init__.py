"""The export toolchain: turns source models into the artifacts devices run.

Installed with the `export` extra; the runtime never imports this package.
"""
