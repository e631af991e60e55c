"""canonical_json writes long number lists itself: the bytes are json.dumps' bytes."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from validation import _atomic
from validation._atomic import canonical_json

numbers = st.one_of(st.integers(-(10**20), 10**20), st.floats(allow_nan=False, allow_infinity=False))
leaf = st.one_of(numbers, st.none(), st.booleans(), st.text(max_size=5))
tree = st.recursive(
    leaf, lambda c: st.one_of(st.lists(c, max_size=4), st.dictionaries(st.text(max_size=4), c, max_size=4)),
    max_leaves=20)


def _plain(obj):
    return json.dumps(obj, sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


@settings(max_examples=60, deadline=None)
@given(tree, st.lists(st.one_of(numbers, st.none()), min_size=3, max_size=12), st.integers(0, 3))
def test_same_bytes_as_json_dumps(obj, numbers_list, where) -> None:
    old = _atomic._LIFT_MIN
    _atomic._LIFT_MIN = 3  # lift short lists too, so that every shape is tried
    try:
        doc = [{"a": obj, "curve": {"fpr": numbers_list, "n": 1}}, numbers_list, {"x": [numbers_list]},
               numbers_list][where]
        assert canonical_json(doc) == _plain(doc)
        assert canonical_json({"k": doc, "z": [obj, numbers_list]}) == _plain({"k": doc, "z": [obj, numbers_list]})
    finally:
        _atomic._LIFT_MIN = old


def test_long_curve_and_input_untouched() -> None:
    doc = {"roc": {"fpr": [i / 7 for i in range(5000)], "n": list(range(3000)), "flags": [True] * 2000}}
    before = json.dumps(doc)
    assert canonical_json(doc) == _plain(doc)
    assert json.dumps(doc) == before
