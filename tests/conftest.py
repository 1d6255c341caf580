import pytest


@pytest.fixture(scope="session")
def extractor():
    from extractor import Extractor

    return Extractor()
