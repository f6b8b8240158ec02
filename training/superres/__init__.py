"""What made the `shapes-2x` upscaler: pairs of renders of the same scene at 64×64 and 128×128
(`data`), the training script (`train`) and the evaluation (`evaluate`). The weights themselves are
runtime data and ship in `models/superres/shapes-2x/`."""
