"""The shapes model: simple scenes with their captions (`scenes`), the pixel reader that checks what
a picture shows (`measure`), the tokenizer, the training script (`train`), the evaluation
(`scoring` while training, `evaluate` through the worker) and the trained model itself (`model/`)."""
