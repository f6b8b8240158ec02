"""A server's rules and a member's choices: their records (`guild`, `member`, `store`, `summary`),
banned terms (`moderation`), limits (`quotas`), and applying them to one request (`policy`)."""
