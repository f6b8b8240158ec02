"""What made `shapes-ip-adapter`: an image-prompt adapter (IP-Adapter, in the layout diffusers'
`load_ip_adapter` reads) for the built-in shapes model, so a picture can steer what it draws
(`--sref`, `/blend`). The parts (`parts`: image encoder, feature extractor, adapter layout), the
training script (`train`) and the evaluation (`evaluate`). The trained adapter ships in
`models/adapters/shapes-ip-adapter/`."""
