# The two set-up commands the README gives. Each builds its own virtual environment from nothing.
PYTHON ?= python3
VENV := .venv
# The playground's browser test drives Debian's Chromium: browsers cannot be downloaded here.
CHROMIUM := /usr/bin/chromium

.PHONY: run test clean

## run: the playground at http://127.0.0.1:8765: the real bot and a worker with the built-in shapes
## model (trained here, offline), against an emulated Discord (no Discord application, no GPU, no internet)
run: $(VENV)/.installed
	$(VENV)/bin/imagine-playground

## test: the whole test suite (starts its own redis-servers, the playground and a headless browser)
test: $(VENV)/.installed $(CHROMIUM)
	$(VENV)/bin/python -m pytest

# torch is installed first, pinned, so the worker extra's range is already met and pip pulls no
# other build (on a GPU host, install the CUDA build of your choice before `pip install .[worker]`).
# spandrel (the upscalers) without its dependencies: with them it would pull a CUDA torch and
# torchvision; the CPU torch here has no torchvision that imports (see models/upscalers.py).
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet torch==2.13.0
	$(VENV)/bin/pip install --quiet --no-deps spandrel==0.4.2
	$(VENV)/bin/pip install --quiet -e '.[worker,bot,api,emulator,test]'
	touch $@

# Needs root; without it the browser test says how to install Chromium and is skipped.
$(CHROMIUM):
	export DEBIAN_FRONTEND=noninteractive; \
	apt-get install -y -q --no-install-recommends chromium fonts-noto-color-emoji \
	|| (apt-get update -q && apt-get install -y -q --no-install-recommends chromium fonts-noto-color-emoji) \
	|| echo "Chromium could not be installed: the playground's browser test will be skipped"

clean:
	rm -rf $(VENV) test-output
