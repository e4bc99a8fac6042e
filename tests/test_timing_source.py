"""The timing helper (chapters and benchmarks) and show_source (chapters)."""
import pytest

import transformer_lib as tl
from transformer_lib.source import get_source


def _marked():
    x = 1
    # [book: middle]
    y = x + 1
    # [/book: middle]
    return y


def test_median_time_is_positive_and_calls_warmup_plus_repeats():
    calls = []
    t = tl.median_time(lambda: calls.append(1), repeats=5, warmup=2)
    assert t >= 0.0
    assert len(calls) == 7


def test_compare_ratios_against_reference():
    out = tl.compare({"a": lambda: None, "b": lambda: None}, reference="a", repeats=3)
    assert out["a"]["ratio"] == pytest.approx(1.0)
    assert out["b"]["samples"] == 3


@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda: tl.median_time(3), TypeError, "fn must be a function"),
        (lambda: tl.median_time(lambda: 0, repeats=0), ValueError, "repeats must be an integer >= 1"),
        (lambda: tl.compare({}, None, 3), TypeError, "non-empty dict"),
        (lambda: tl.compare({"a": lambda: 0}, "b", 3), ValueError, "reference='b'"),
    ],
)
def test_timing_refuses_bad_arguments(call, error, words):
    with pytest.raises(error, match=words):
        call()


def test_get_source_of_a_marked_part_leaves_out_the_markers():
    assert get_source(_marked, "middle") == "y = x + 1"
    whole = get_source(_marked)
    assert "[book:" not in whole and whole.startswith("def _marked")


def test_unknown_part_names_the_markers_found():
    with pytest.raises(ValueError, match=r"part='nope'.*\['middle'\]"):
        get_source(_marked, "nope")


def test_show_source_prints(capsys):
    tl.show_source(_marked, "middle")
    assert capsys.readouterr().out == "y = x + 1\n"


def test_show_source_names_a_bad_argument():
    with pytest.raises(TypeError, match="obj must be a function, method, class or module, got int"):
        tl.get_source(3)
    with pytest.raises(TypeError, match="part must be the name of a marked part"):
        tl.get_source(tl.generate, 1)
