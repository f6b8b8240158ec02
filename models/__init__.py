"""Which diffusion models are served and how they load.

`families` and `catalog` are torch-free (the bot validates `--model` with them); `loader` and
`tiny` need torch and diffusers, and only the worker imports them.
"""
