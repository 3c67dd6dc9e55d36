"""The export toolchain: turns source models into the artifacts devices run.

Installed with the `export` extra; the runtime imports only the recipes' descriptions
(`coverage`, for `edgeai doctor`), which need none of the extra.
"""
