"""The Redis side of the contract: queues, the event stream and the artifact store.

Shared by the bot, the command line and the workers; needs redis and rq, never torch.
"""
