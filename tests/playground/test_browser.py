"""The playground, as a newcomer meets it: `imagine-playground` (what `make run` starts), then a
real browser (Debian's Chromium, headless, driven by Playwright) types /imagine, watches the grid
appear, clicks U2 and V1, then Zoom Out 2×, ➡ and Vary (Region) (its menu and its form) under the
upscaled image, and asks /info. Everything behind the page is the real bot, worker and
Redis."""

import re
import shutil
from pathlib import Path

import pytest

from tests.helpers import grid_readings, matching
from tests.playground.conftest import SCREENSHOTS, RunningPlayground, taken

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium")
JOB = 90_000  # ms a job may take under a loaded CI machine


@pytest.fixture
def page(playground: RunningPlayground):
    if CHROMIUM is None:
        pytest.skip("Chromium is not installed (Debian: apt-get install chromium; `make test` does it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(playground.url)
        yield page
        browser.close()


def _send(page, text: str) -> None:
    page.get_by_label("Message").fill(text)
    page.get_by_label("Message").press("Enter")


def _screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / name
    page.screenshot(path=path, full_page=True)
    taken.append(path)
    return path


def test_imagine_then_upscale_vary_and_info_in_a_browser(page) -> None:
    from playwright.sync_api import expect

    prompt = "a red circle on a blue background --seed 3"
    _send(page, f"/imagine {prompt}")
    grid = page.locator(".message", has=page.get_by_role("button", name="U1"))
    expect(grid).to_have_count(1, timeout=JOB)
    expect(grid.locator(".content")).to_have_text(re.compile(f"^{re.escape(prompt)} - @"))
    image = grid.locator(".attachments img")
    expect(image).to_be_visible()
    assert image.evaluate("img => img.naturalWidth") > 0
    shown = page.request.get(image.evaluate("img => img.src")).body()  # the picture the page shows
    assert matching(grid_readings(shown), colour="red", shape="circle", background="blue") >= 3
    expect(page.locator(".message")).to_have_count(1)  # the waiting message makes way for the grid
    _screenshot(page, "playground-grid.png")

    grid.get_by_role("button", name="U2").click()
    upscaled = page.locator(".message", has_text="Image #2")
    expect(upscaled).to_have_count(1, timeout=JOB)  # its waiting message, then the image in its place
    expect(upscaled.get_by_role("button", name=re.compile("Vary \\(Strong\\)"))).to_be_visible(timeout=JOB)

    grid.get_by_role("button", name="V1").click()
    expect(page.locator(".message", has_text="Variations (Subtle) by")).to_have_count(1, timeout=JOB)
    _after_the_upscale(page, upscaled)

    # The embedded catalog's other models are served too: here the FLUX architecture's tiny one.
    _send(page, "/imagine a lighthouse --model tiny-flux --ar 3:2")
    flux = page.locator(".message", has_text="a lighthouse --model tiny-flux --ar 3:2 - @")
    expect(flux.get_by_role("button", name="U1")).to_be_visible(timeout=JOB)

    _send(page, "/info")
    info = page.locator(".message.ephemeral", has_text="Queue:")
    expect(info).to_have_count(1, timeout=10_000)
    expect(info).to_contain_text("Workers online: 1")
    expect(info).to_contain_text("Only you can see this")
    _screenshot(page, "playground.png")


def _after_the_upscale(page, upscaled) -> None:
    """Zoom Out 2×, ➡ and Vary (Region) under the upscaled image: the parts menu, then the form."""
    from playwright.sync_api import expect

    upscaled.get_by_role("button", name="Zoom Out 2×").click()
    upscaled.get_by_role("button", name="➡️").click()
    upscaled.get_by_role("button", name="Vary (Region)").click()
    menu = page.locator(".message.ephemeral", has_text="Which parts of image #1")
    expect(menu).to_have_count(1, timeout=10_000)
    menu.get_by_role("button", name="Pick the parts to repaint").click()
    menu.get_by_role("option", name="Centre").click()
    menu.get_by_role("option", name="Top", exact=True).click()
    _screenshot(page, "playground-region-menu.png")
    page.locator("#topic").click()  # closing the menu sends the parts picked
    form = page.get_by_role("dialog")
    expect(form).to_contain_text("Vary (Region)", timeout=10_000)
    expect(form.get_by_label("Prompt")).to_have_value(re.compile("^a red circle on a blue background"))
    form.get_by_label("Prompt").fill("a green square on a blue background")
    _screenshot(page, "playground-region-form.png")
    form.get_by_role("button", name="Submit").click()
    # A result is a new message with its grid's buttons (the waiting one, with its preview, then goes).
    results = {
        label: page.locator(".message", has_text=label, has=page.get_by_role("button", name="U1"))
        for label in ("Zoom Out 2× by", "Pan right by", "Vary (Region) by")
    }
    for result in results.values():
        expect(result.locator(".attachments img")).to_be_visible(timeout=JOB)
    pan = results["Pan right by"].locator(".attachments img")
    assert pan.evaluate("img => img.naturalWidth / img.naturalHeight") == 1.5
    _screenshot(page, "playground-after-upscale.png")


def test_images_attached_in_the_browser_are_described_blended_and_imagined(page, tmp_path) -> None:
    from playwright.sync_api import expect

    from training.shapes.scenes import Scene, render

    red, green = tmp_path / "red.png", tmp_path / "green.png"
    render(Scene("circle", "red", 1, "large", "blue"), seed=1).save(red)
    render(Scene("square", "green", 1, "large", "white"), seed=2).save(green)

    page.set_input_files("#files", [str(red)])
    expect(page.locator("#attached")).to_have_text("📎 red.png")
    _send(page, "/describe")
    described = page.locator(".message", has_text="/describe - @")
    first = described.get_by_role("button", name="1", exact=True)
    expect(first).to_be_visible(timeout=JOB)
    expect(described).to_contain_text("red")
    _screenshot(page, "playground-describe.png")
    first.click()  # /imagine the first prompt
    imagined = page.locator(
        ".message", has=page.get_by_role("button", name="U1"), has_text="blue background - @"
    )
    expect(imagined.first).to_be_visible(timeout=JOB)

    page.set_input_files("#files", [str(red), str(green)])
    _send(page, "/blend dimensions: landscape")
    blended = page.locator(".message", has_text="/blend - @", has=page.get_by_role("button", name="U1"))
    expect(blended).to_have_count(1, timeout=JOB)
    img = blended.locator(".attachments img")
    assert img.evaluate("img => img.naturalWidth / img.naturalHeight") > 1  # 80×48 images: the nearest to 3:2

    page.set_input_files("#files", [str(green)])
    _send(page, "/imagine a red circle --iw 3")
    started = page.locator(
        ".message", has_text="a red circle --iw 3 - @", has=page.get_by_role("button", name="U1")
    )
    expect(started).to_have_count(1, timeout=JOB)
    shown = page.request.get(started.locator(".attachments img").evaluate("img => img.src")).body()
    assert matching(grid_readings(shown), background="white") >= 3  # the attached image's background stays
    _screenshot(page, "playground-images.png")


def test_a_mistyped_command_and_a_bad_prompt_are_explained(page) -> None:
    from playwright.sync_api import expect

    _send(page, "/imagin a fox")
    expect(page.get_by_role("alert")).to_contain_text("There is no /imagin here")
    _send(page, "/imagine a fox --ar 30:1")
    refusal = page.locator(".message.ephemeral", has_text="That prompt needs a change")
    expect(refusal).to_contain_text("--ar 30:1")
