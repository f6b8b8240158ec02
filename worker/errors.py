"""Job failures that no retry can fix; their messages are safe to show to a Discord member."""


class JobError(Exception):
    """A job that cannot succeed as asked. It fails at once, without retries."""


class InvalidJobError(JobError):
    """The job's payload is not a valid spec."""


class DamagedJobError(InvalidJobError):
    """The job's record in Redis has fields that cannot be read (`worker.records`)."""


class JobTooLargeError(JobError):
    """The job asks for more than its model's limits (sizes, steps)."""


class ForbiddenJobError(JobError):
    """The job names a function or callback outside the worker's allow-list."""


class ModelNotServedError(JobError):
    """The job is for a model this worker did not load."""


class LoraNotServedError(JobError):
    """The job asks for a LoRA this worker does not serve, or one for another family."""


class LoraLoadError(JobError):
    """A LoRA the worker serves could not be loaded into the model."""


class SourceExpiredError(JobError):
    """The image a follow-up starts from is no longer stored."""


class SafetyCheckUnavailableError(JobError):
    """The job asks for an NSFW check and the worker could not load the checker."""


class UploadFlaggedError(JobError):
    """An image the member gave was flagged by the NSFW check of a server that blocks such images."""


class AdapterNotServedError(JobError):
    """The job asks for style references (`--sref`, `/blend`) on a model with no image adapter here."""
