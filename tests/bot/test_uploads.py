"""A request's images across its `{…}` combinations, against a real HTTP server and a real Redis:
each distinct image is fetched and stored once, and a request naming too many is refused before
any download."""

import pytest
from redis import Redis

from bot.requests.fetch import ImageFetcher
from bot.requests.uploads import Given, TooManyImages, Uploads, Wanted
from broker.artifacts import ArtifactStore
from jobs import limits
from tests.bot.test_fetch import _Cdn, _run


def test_an_image_two_combinations_share_is_fetched_and_stored_once(redis: Redis):
    stored: list = []

    async def scenario(fetcher: ImageFetcher, origin: str, _: _Cdn) -> None:
        uploads = Uploads(fetcher, ArtifactStore(redis, 60))
        cat, other = Given(f"{origin}/cat.png", "the link cat"), Given(f"{origin}/chain/0", "the link other")
        stored.extend(await uploads.store_each([Wanted([cat], [other]), Wanted([], [cat]), Wanted([], [])]))

    cdn = _run(scenario)
    assert sorted(cdn.paths) == ["/cat.png", "/chain/0"]
    (images, styles), (no_images, shared), nothing = stored
    assert images != styles and shared == images and no_images == ()  # the one stored cat
    assert nothing == ((), ())
    assert all(ArtifactStore(redis, 60).has_upload(ref) for ref in (*images, *styles))


def test_a_request_naming_too_many_different_images_is_refused_before_any_download(redis: Redis):
    async def scenario(fetcher: ImageFetcher, origin: str, _: _Cdn) -> None:
        uploads = Uploads(fetcher, ArtifactStore(redis, 60))
        links = [Given(f"{origin}/cat.png?n={n}", f"link {n}") for n in range(limits.UPLOADS_MAX + 1)]
        wanted = [Wanted([], [link]) for link in links]
        with pytest.raises(TooManyImages, match="That's 11 different images in one request: give at most 10"):
            await uploads.store_each(wanted)

    assert _run(scenario).hits == []
