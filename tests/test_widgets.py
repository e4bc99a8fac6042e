"""Tests of the kernel-free explorer (transformer_lib.widgets)."""
import re

import ipywidgets as widgets
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pytest

from transformer_lib.widgets import explorer, slider_options

calls = []


def draw(**kwargs):
    calls.append(kwargs)
    fig, ax = plt.subplots(figsize=(1.5, 1))
    ax.set_title(", ".join(f"{k}={v}" for k, v in kwargs.items()))
    ax.plot([0, 1], [0, len(str(kwargs))])
    return fig


def stacks_of(box):
    return [c for c in box.children if isinstance(c, widgets.Stack)]


def sliders_of(box):
    return [c for c in box.children if isinstance(c, widgets.SelectionSlider)]


def leaves(w):
    if isinstance(w, widgets.HTML):
        return [w]
    return [leaf for c in w.children for leaf in leaves(c)]


def test_one_slider_draws_each_value_once_and_labels_show_values():
    calls.clear()
    box = explorer(draw, heads=[1, 2, 4])
    assert [c["heads"] for c in calls] == [1, 2, 4]
    (slider,) = sliders_of(box)
    assert slider.description == "heads:"
    assert list(slider._options_labels) == ["1", "2", "4"]  # labels, not indices
    assert slider.index == 0
    (stack,) = stacks_of(box)
    assert len(stack.children) == 3
    assert stack.selected_index == 0
    assert "tl-explorer" in box._dom_classes
    assert box.n_images == 3


def test_two_sliders_nest_stacks_and_count_is_product():
    calls.clear()
    box = explorer(draw, d_model=[8, 16], heads=[1, 2, 4])
    assert len(calls) == 6
    assert {(c["d_model"], c["heads"]) for c in calls} == {(d, h) for d in (8, 16) for h in (1, 2, 4)}
    (outer,) = stacks_of(box)
    assert len(outer.children) == 2
    assert all(isinstance(c, widgets.Stack) and len(c.children) == 3 for c in outer.children)
    imgs = leaves(outer)
    assert len(imgs) == 6
    # Alt text names every parameter value, in slider order.
    assert 'alt="d_model: 16, heads: 4"' in outer.children[1].children[2].value
    # One jslink per stack: 1 outer + 2 inner.
    links = box._explorer_links
    assert len(links) == 3
    assert all(type(link).__name__ == "Link" for link in links)
    assert links[0].source[1] == "index" and links[0].target[1] == "selected_index"


def test_three_sliders_nest_three_levels():
    box = explorer(draw, a=[1, 2], b=["x", "y"], c=[0.5, 1.5])
    assert box.n_images == 8
    assert len(box._explorer_links) == 1 + 2 + 4
    assert len(leaves(stacks_of(box)[0])) == 8


def test_dict_values_show_labels_and_pass_values():
    calls.clear()
    box = explorer(draw, mask={"off": False, "causal": True})
    assert [c["mask"] for c in calls] == [False, True]
    assert list(sliders_of(box)[0]._options_labels) == ["off", "causal"]
    assert 'alt="mask: causal"' in stacks_of(box)[0].children[1].value


def test_alt_text_describes_each_picture():
    def leaves_of(box):
        return [leaf.value for leaf in leaves(stacks_of(box)[0])]

    # Without alt: the slider values.
    assert 'alt="n: 1"' in leaves_of(explorer(draw, n=[1]))[0]
    # One text for every picture, followed by the values.
    (a, b) = leaves_of(explorer(draw, n=[1, 2], alt="A line whose height grows"))
    assert 'alt="A line whose height grows (n: 1)"' in a
    assert 'alt="A line whose height grows (n: 2)"' in b
    assert 'data-values="n: 2"' in b
    # A function gets the same keyword arguments as draw; text is HTML-escaped.
    (a, b) = leaves_of(explorer(draw, n=[1, 2], m=["x"], alt=lambda n, m: f"<{n * 10}> & {m}"))
    assert 'alt="&lt;10&gt; &amp; x (n: 1, m: x)"' in a
    assert 'alt="&lt;20&gt; &amp; x (n: 2, m: x)"' in b
    with pytest.raises(TypeError, match="alt must be a text"):
        explorer(draw, n=[1], alt=lambda n: None)


def test_images_are_png_data_uris_and_differ():
    box = explorer(draw, n=[1, 22])
    values = [leaf.value for leaf in leaves(stacks_of(box)[0])]
    assert all(re.search(r'src="data:image/png;base64,[A-Za-z0-9+/=]+"', v) for v in values)
    assert values[0] != values[1]


def test_same_figure_same_bytes():
    a = leaves(stacks_of(explorer(draw, n=[3]))[0])[0].value
    b = leaves(stacks_of(explorer(draw, n=[3]))[0])[0].value
    assert a == b


@pytest.mark.parametrize(
    "sliders, message",
    [
        ({}, "at least one slider"),
        ({"a": [1], "b": [1], "c": [1], "d": [1]}, "1 to 3 sliders"),
        ({"a": []}, "no values"),
        ({"a": [1, 1]}, "repeated"),
        ({"a": list(range(10)), "b": list(range(10))}, "100 pictures"),
    ],
)
def test_bad_sliders_raise_value_error(sliders, message):
    with pytest.raises(ValueError, match=message):
        explorer(draw, **sliders)


def test_bad_types_raise_type_error():
    with pytest.raises(TypeError, match="list of values"):
        explorer(draw, a=5)
    with pytest.raises(TypeError, match="list of values"):
        slider_options("a", "abc")
    with pytest.raises(TypeError, match="must return a matplotlib Figure"):
        explorer(lambda a: None, a=[1])
    with pytest.raises(TypeError, match="draw must be a function"):
        explorer(3, a=[1])


def test_too_many_bytes_raises():
    with pytest.raises(ValueError, match="max_bytes"):
        explorer(draw, a=[1, 2], max_bytes=100)


def test_figures_are_closed():
    before = len(plt.get_fignums())
    explorer(draw, a=[1, 2, 3])
    assert len(plt.get_fignums()) == before


def test_pictures_are_dense_indexed_pngs_shown_at_their_displayed_size():
    import base64

    from transformer_lib.plotting import EXPLORER_DENSITY, png_size

    (value,) = [leaf.value for leaf in leaves(stacks_of(explorer(draw, n=[1]))[0])]
    data = re.search(r"base64,([A-Za-z0-9+/=]+)", value).group(1)
    png = base64.b64decode(data)
    width, _ = png_size(png)
    shown = int(re.search(r' width="(\d+)"', value).group(1))
    assert width / shown == pytest.approx(EXPLORER_DENSITY, abs=0.02)
    assert "height:auto" in value  # the height follows the proportions
    assert png[25] == 3  # PNG colour type 3: indexed (256 colours)


def test_a_draw_or_alt_that_does_not_take_the_slider_names_is_named_before_drawing():
    drawn = []

    def draw_one(head):
        drawn.append(head)
        return plt.figure()

    with pytest.raises(TypeError, match=r"draw must take the slider names \['heads'\]"):
        explorer(draw_one, heads=[1, 2])
    with pytest.raises(TypeError, match=r"alt must take the slider names \['head'\]"):
        explorer(draw_one, head=[1, 2], alt=lambda h: f"head {h}")
    assert drawn == []  # refused before anything was drawn
    assert explorer(draw, head=[1]) is not None  # **kwargs takes any name
