"""The shapes model as shipped: its weights, tokenizer, configs and model card in `model/`, in the
diffusers layout (installed as package data; `models.builtins.SHIPPED` points at it). The tools
that trained and evaluate it are in `training/shapes/`, outside the runtime packages."""
