"""Images that jobs produce, kept in Redis for a while so workers on other hosts need only its URL."""

from PIL import Image
from redis import Redis

from broker.images import encode
from jobs import keys, limits
from jobs.events import ArtifactRef
from jobs.specs import UploadRef


class ArtifactExpiredError(LookupError):
    """The image was stored once but its time to live has passed."""


class ArtifactStore:
    """Stores and reads job images under `imagine:artifact:<job>:<name>` with a time to live."""

    def __init__(self, redis: Redis, ttl: int) -> None:
        self._redis = redis
        self._ttl = ttl

    def put(
        self, job_id: str, name: str, data: bytes, *, content_type: str, width: int, height: int
    ) -> ArtifactRef:
        key = keys.artifact_key(job_id, name)
        self._redis.set(key, data, ex=self._ttl)
        return ArtifactRef(key=key, content_type=content_type, width=width, height=height, size=len(data))

    def put_image(self, job_id: str, name: str, image: Image.Image) -> ArtifactRef:
        """Stores `image` encoded to fit Discord's upload limit (see `broker.images.encode`)."""
        encoded = encode(image)
        return self.put(
            job_id,
            name,
            encoded.data,
            content_type=encoded.content_type,
            width=image.width,
            height=image.height,
        )

    def has_image(self, job_id: str, index: int) -> bool:
        """Whether image `index` of a job is still stored."""
        return bool(self._redis.exists(keys.artifact_key(job_id, image_name(index))))

    def get(self, key: str) -> bytes:
        data = self._redis.get(key)
        if data is None:
            raise ArtifactExpiredError(f"{key} is no longer stored")
        return data

    def image(self, job_id: str, index: int) -> bytes:
        """Image `index` (1-4) of a job's grid."""
        return self.get(keys.artifact_key(job_id, image_name(index)))

    def put_upload(self, ref: UploadRef, image: Image.Image) -> ArtifactRef:
        """Stores an image a member gave, for the jobs that start from it: shrunk, if it must be, to
        the longest side jobs take (`limits.UPLOAD_STORED_SIDE`)."""
        side = limits.UPLOAD_STORED_SIDE
        if max(image.size) > side:
            image = image.copy()
            image.thumbnail((side, side), Image.Resampling.LANCZOS)
        return self.put_image(ref.upload_id, upload_name(ref.index), image)

    def upload(self, ref: UploadRef) -> bytes:
        return self.get(keys.artifact_key(ref.upload_id, upload_name(ref.index)))

    def has_upload(self, ref: UploadRef) -> bool:
        return bool(self._redis.exists(keys.artifact_key(ref.upload_id, upload_name(ref.index))))


def image_name(index: int) -> str:
    return f"image-{index}"


def upload_name(index: int) -> str:
    return f"upload-{index}"
