"""Which diffusion models are served and how they load.

`families` and `catalog` are torch-free (the bot validates `--model` with them); `loader`,
`builtins`, `tiny` and `shapes` need torch and diffusers, and only the worker imports them.
"""
