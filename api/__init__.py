"""`imagine-api`: the HTTP front door beside the bot. OpenAI-compatible image endpoints and native
job endpoints with live events, for API keys with their own limits, on the same queue and workers."""
