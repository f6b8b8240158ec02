"""The HTTP API the playground starts beside the page: the official `openai` client, given the URL
and the key the playground printed, gets the picture the prompt asks for."""

import base64
import re

import openai
import pytest

from tests.helpers import image
from tests.playground.conftest import RunningPlayground
from training.shapes.measure import read

pytestmark = pytest.mark.slow


def test_the_openai_client_draws_with_the_url_and_key_the_playground_printed(playground: RunningPlayground):
    printed = playground.output()
    base_url = re.search(r"HTTP API \(OpenAI-compatible\): (\S+)", printed)
    key = re.search(r"its key for local use: (imk_\S+)", printed)
    assert base_url and key, printed
    with openai.OpenAI(base_url=base_url[1], api_key=key[1], max_retries=0, timeout=120) as client:
        result = client.images.generate(
            model="shapes", prompt="a red circle on a blue background", response_format="b64_json"
        )
    [item] = result.data
    seen = read(image(base64.b64decode(item.b64_json)))
    assert (seen.colour, seen.background) == ("red", "blue"), seen
    assert f'OpenAI(base_url="{base_url[1]}", api_key="{key[1]}")' in printed  # the snippet, ready to paste
