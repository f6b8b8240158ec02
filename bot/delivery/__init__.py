"""Delivery: reading the workers' events (`consumer`), turning them into what the channel shows
(`presenter`, `render`), and posting it (`poster`) to where each job's record says (`deliveries`)."""
