"""Images that jobs produce, kept in Redis for a while so workers on other hosts need only its URL."""

from PIL import Image
from redis import Redis

from broker.images import encode
from jobs import keys
from jobs.events import ArtifactRef


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


def image_name(index: int) -> str:
    return f"image-{index}"
