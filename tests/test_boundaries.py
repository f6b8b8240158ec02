"""The contract, the Redis side and the bot stay light: nothing there may pull in torch."""

import subprocess
import sys

import pytest


@pytest.mark.parametrize(
    "module",
    [
        "jobs.prompt",
        "jobs.resolve",
        "jobs.events",
        "broker.queues",
        "cli.main",
        "models.catalog",
        "bot.__main__",
        "playground.__main__",
        "api.__main__",
        "api.app",
    ],
)
def test_light_modules_never_import_torch(module):
    code = f"import sys, {module}; print({{'torch', 'diffusers', 'transformers'}} & set(sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "set()"


def test_the_contract_imports_only_pydantic_and_the_standard_library():
    code = (
        "import sys\n"
        "before = set(sys.modules)\n"
        "import jobs.prompt, jobs.resolve, jobs.events, jobs.keys, jobs.custom_ids, jobs.expansion\n"
        "third = {m.split('.')[0] for m in set(sys.modules) - before if not m.startswith('_sysconfigdata')}\n"
        "third -= set(sys.stdlib_module_names)\n"
        "print(sorted(third - {'jobs', 'pydantic', 'pydantic_core', 'typing_extensions', 'annotated_types',"
        " 'typing_inspection'}))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
