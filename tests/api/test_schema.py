"""`imagine-api` fuzzed from its OpenAPI document (schemathesis, every default check): for every
operation, no 5xx, and every answer (its status, content type, headers and body) one the document
declares; then sequences of calls that follow the document's links (create a job, read it, cancel
it, stream its events). The key may use only the shapes and tiny models, at most 2 steps and 64 px,
so a generation that gets through takes a fraction of a second on a CPU."""

from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from api.openapi import document
from playground.stack import Process
from tests.api.conftest import MakeKey

pytestmark = pytest.mark.slow
TIMEOUT = 60  # s for one request: a generation waits for its job; a real job's events would stream on
FUZZING = settings(
    max_examples=15,  # per operation, besides schemathesis's coverage cases
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

# Loaded when the module is collected, before any API runs (schemathesis's lazy `from_fixture`
# loader fails under pytest 9: it sets `Function._nodeid`); `served` checks that the running API
# serves this very document.
DOCUMENT = document()
schema = schemathesis.openapi.from_dict(DOCUMENT)


@pytest.fixture(scope="module")
def key(make_key: MakeKey) -> str:
    # Room for the jobs the run queues, so the answers are the operations' own rather than 429s.
    limits = ["--max-steps", "2", "--max-side", "64", "--waiting", "1000", "--hourly", "100000"]
    return make_key("schema", "--models", "shapes,tiny", *limits)


@pytest.fixture(scope="module")
def served(api_url: str, api_worker: Process) -> str:
    """The running API's URL, once its document is known to be the one the cases come from."""
    assert httpx.get(f"{api_url}/openapi.json").json() == DOCUMENT
    return api_url


def parser_aware_positive_data_acceptance(ctx: Any, response: Any, case: schemathesis.Case) -> bool | None:
    """schemathesis's `positive_data_acceptance`, except for the refusals no JSON Schema can state:
    a prompt our parser refuses (`--ar 30:1`, a flag without its value), a model the catalog or the
    key does not have (`model` is any name), a `size` past the 4:1 limit, bytes that are not an
    image (`invalid_image`: base64 or a file can be any bytes), a mask that does not fit its image
    (`invalid_mask`: its size, or several images with one mask), and a value the document admits but
    this API cannot honour and refuses by design rather than ignore (`unsupported_value`: `stream:
    true`, `output_compression` with PNG). Every other 400 to a schema-valid request is still a
    failure."""
    if response.status_code == 400:
        try:
            error = response.json()["error"]
        except (ValueError, KeyError, TypeError):
            error = {}  # not our error shape: the other checks say so
        if error.get("param") in ("prompt", "model", "size") or error.get("code") in REFUSED_BY_DESIGN:
            return None
    return positive_data_acceptance(ctx, response, case)


REFUSED_BY_DESIGN = ("unsupported_value", "invalid_image", "invalid_mask")
CALL: dict[str, Any] = {
    "excluded_checks": [positive_data_acceptance],
    "additional_checks": [parser_aware_positive_data_acceptance],
}


def without_nulls(case: schemathesis.Case) -> schemathesis.Case:
    """A form field or a header cannot be null: schemathesis sends a nullable one's null as the text
    `null`, which the API rightly refuses; a client leaves the field out, as this does."""
    forms = ("application/x-www-form-urlencoded", "multipart/form-data")
    if case.media_type in forms and isinstance(case.body, dict):
        case.body = {name: value for name, value in case.body.items() if value is not None}
    if case.headers:
        case.headers = {name: value for name, value in case.headers.items() if value is not None}
    return case


@schema.parametrize()
@FUZZING
def test_every_operation_answers_as_its_document_says(case: schemathesis.Case, served: str, key: str):
    without_nulls(case).call_and_validate(
        base_url=served, headers={"Authorization": f"Bearer {key}"}, timeout=TIMEOUT, **CALL
    )


def test_calls_that_follow_the_document_s_links_answer_as_it_says(served: str, key: str):
    class Links(schema.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case: schemathesis.Case) -> dict[str, Any]:
            return {"base_url": served, "headers": {"Authorization": f"Bearer {key}"}, "timeout": TIMEOUT}

        def call(self, case: schemathesis.Case, **kwargs: Any) -> Any:
            return without_nulls(case).call(**kwargs)

        def validate_response(self, response: Any, case: schemathesis.Case, **kwargs: Any) -> None:
            case.validate_response(response, transport_kwargs=kwargs, **CALL)

    Links.run(settings=settings(FUZZING, max_examples=10, stateful_step_count=6))
