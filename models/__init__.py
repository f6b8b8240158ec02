"""Which diffusion models are served and how they load.

`families` and `catalog` are torch-free (the bot validates `--model` with them); `loader`,
`builtins` and `tiny` need torch and diffusers, and only the worker imports them. `shapes/model/`
holds the shipped shapes model's files (data, no code); the scripts that trained it are in
`training/`, which nothing here imports.
"""
