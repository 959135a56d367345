import sys
from pathlib import Path

import pytest

# Lets the tests import the helper module next to them however pytest is invoked.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from translate import translate  # noqa: E402


@pytest.fixture(scope="session")
def cfn():
    """template.yaml translated to CloudFormation with its default parameters."""
    return translate()
