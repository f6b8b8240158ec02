"""The request path: a prompt or a click turned into a queued job (`actions`), and the persistent
buttons under results with the views that carry them (`buttons`)."""
