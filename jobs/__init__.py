"""The contract between the bot, the command line and the workers.

Only pydantic and the standard library are imported here, so every side can share it.
"""
