# The two set-up commands the README gives. Each builds its own virtual environment from nothing.
PYTHON ?= python3
VENV := .venv
PROMPT ?= a red fox --ar 3:2 --seed 7

.PHONY: run test clean

## run: make a 2×2 grid with the embedded default (local Redis, local worker, tiny offline model)
run: $(VENV)/.installed
	$(VENV)/bin/imagine generate "$(PROMPT)" -o grid.png

## test: the whole test suite (starts its own redis-servers)
test: $(VENV)/.installed
	$(VENV)/bin/python -m pytest

# torch is installed first, pinned, so the worker extra's range is already met and pip pulls no
# other build (on a GPU host, install the CUDA build of your choice before `pip install .[worker]`).
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet torch==2.13.0
	$(VENV)/bin/pip install --quiet -e '.[worker,bot,emulator,test]'
	touch $@

clean:
	rm -rf $(VENV) grid.png
