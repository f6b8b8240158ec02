"""The Discord front end: slash commands, buttons and the event consumer. Never imports torch."""
