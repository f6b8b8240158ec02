"""The offline playground: the real bot and worker against the Discord emulator, in a web page."""
