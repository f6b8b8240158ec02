"""What made `shapes-captioner`: a small image-to-text model that reads a shapes scene and writes
its caption. The parts (`parts`: tokenizer, image processor, model), the training script (`train`)
and the evaluation (`evaluate`). The trained model ships in `models/captioners/shapes-captioner/`."""
