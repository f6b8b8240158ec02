"""Simple scenes with their captions: the data our small text-to-image model learns from, and the
pixel measurements that check what it draws."""
