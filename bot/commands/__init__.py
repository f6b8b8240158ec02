"""The slash commands: `/imagine`, `/info`, `/settings` and `/prefer`, and `/admin`."""
