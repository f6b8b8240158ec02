"""Tools that train and evaluate the models we ship.

Nothing here runs in production: these modules may import the runtime packages (the evaluation
renders through the worker's own path), and no runtime package (bot, worker, broker, jobs, models,
cli, playground, emulator) ever imports them; `tests/test_layout.py` checks it. They run from a
checkout (`python -m training.shapes.train`) and are not installed with the package.
"""
