"""Every advertised top-level name resolves, and unknown names fail clearly."""

import pytest

import convbert_tf


@pytest.mark.parametrize("name", sorted(convbert_tf._EXPORTS))
def test_exported_name_resolves(name):
    assert getattr(convbert_tf, name) is not None
    assert name in dir(convbert_tf)


def test_unknown_name():
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        convbert_tf.Nope  # noqa: B018
