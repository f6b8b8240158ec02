"""`done` says which images were flagged and whether a checker ran at all."""

from jobs.events import EVENT, ArtifactRef, Done

REF = ArtifactRef(key="k", content_type="image/png", width=64, height=64, size=10)


def test_unchecked_unless_the_worker_says_so():
    done = Done(job_id="j", images=(REF,), seeds=(1,), seconds=0.1)
    assert (done.flagged, done.safety_checked) == ((), False)
    old = done.model_dump(mode="json", exclude={"flagged", "safety_checked"})  # from an older worker
    assert EVENT.validate_python(old) == done


def test_flagged_images_survive_the_stream():
    done = Done(
        job_id="j", images=(REF,) * 4, seeds=(1, 2, 3, 4), seconds=0.1, flagged=(2, 4), safety_checked=True
    )
    again = EVENT.validate_json(done.model_dump_json())
    assert again == done
    assert (again.flagged, again.safety_checked) == ((2, 4), True)
