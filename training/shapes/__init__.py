"""What made the shapes model: simple scenes with their captions (`scenes`), the pixel reader that
checks what a picture shows (`measure`), the tokenizer, the training script (`train`) and the
evaluation (`scoring` while training, `evaluate` through the worker). The trained model itself is
runtime data and ships in `models/shapes/model/`."""
