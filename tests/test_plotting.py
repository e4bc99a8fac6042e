"""Tests of the book's figure style (transformer_lib.plotting)."""
import base64
import io
import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from transformer_lib import plotting


def test_cjk_font_registered_and_renders_without_missing_glyphs():
    names = {f.name for f in matplotlib.font_manager.fontManager.ttflist}
    assert plotting.CJK_FONT in names
    assert plotting.CJK_FONT in matplotlib.rcParams["font.family"]
    fig, ax = plt.subplots()
    ax.set_title("今天晚上吃汉堡")
    ax.set_xticks([0, 1], ["今天", "汉堡"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a missing glyph is a UserWarning
        plotting.figure_to_png(fig)


def test_attention_heatmap_style():
    w = torch.softmax(torch.randn(4, 4, generator=torch.Generator().manual_seed(0)), dim=-1)
    tokens = ["今天", "晚上", "吃", "汉堡"]
    ax = plotting.attention_heatmap(w, tokens)
    im = ax.images[0]
    assert im.get_cmap().name == plotting.ATTENTION_CMAP
    assert im.get_clim() == (0.0, 1.0)
    assert [t.get_text() for t in ax.get_xticklabels()] == tokens
    assert [t.get_text() for t in ax.get_yticklabels()] == tokens
    assert ax.get_xlabel() and ax.get_ylabel() and ax.get_title()
    cbar = im.colorbar
    assert cbar is not None and cbar.vmin == 0.0 and cbar.vmax == 1.0
    assert len(ax.texts) == 16  # small matrices are annotated
    plt.close("all")


def test_attention_heatmap_rejects_bad_shapes_and_labels():
    with pytest.raises(ValueError, match="2-D"):
        plotting.attention_heatmap(np.zeros((2, 3, 3)))
    with pytest.raises(ValueError, match="query_tokens has 2 labels"):
        plotting.attention_heatmap(np.zeros((3, 3)), ["a", "b"], ["a", "b", "c"])
    plt.close("all")


def test_matrix_heatmap_centres_signed_values_and_greys_minus_inf():
    m = torch.tensor([[1.0, float("-inf")], [-2.0, 0.5]])
    ax = plotting.matrix_heatmap(m, ["a", "b"], ["c", "d"], title="scores")
    im = ax.images[0]
    lo, hi = im.get_clim()
    assert lo == -hi == -2.0
    assert "-inf" in [t.get_text() for t in ax.texts]
    plt.close("all")


def test_attention_grid_one_shared_colorbar():
    w = torch.rand(2, 3, 4, 4)
    fig = plotting.attention_grid(w, list("abcd"))
    imgs = [a.images[0] for a in fig.axes if a.images]
    assert len(imgs) == 6
    assert all(i.get_clim() == (0.0, 1.0) for i in imgs)
    assert fig.axes[0].get_title() == "layer 0, head 0"
    plt.close("all")


def test_to_numpy_handles_bfloat16():
    x = torch.ones(2, 2, dtype=torch.bfloat16)
    assert plotting.to_numpy(x).dtype == np.float64


def test_pipeline_diagram_draws_boxes_notes_and_bracket():
    ax = plotting.pipeline_diagram(
        [("tokens", "(B, T)"), ("embedding", "(B, T, D)"), ("block", "(B, T, D)")],
        repeat=(2, 2, "x N"), title="flow",
    )
    texts = [t.get_text() for t in ax.texts]
    assert {"tokens", "embedding", "block", "(B, T)", "x N"} <= set(texts)
    assert len(ax.patches) == 3 and ax.get_title() == "flow"
    with pytest.raises(ValueError, match="repeat"):
        plotting.pipeline_diagram([("a", "")], repeat=(0, 3, "x"))
    plt.close("all")


# --- pixel density, text size, PNG size --------------------------------------------------


def _heatmap_figure():
    fig, ax = plt.subplots(figsize=(4, 3))
    w = torch.softmax(torch.randn(6, 6, generator=torch.Generator().manual_seed(1)), dim=-1)
    plotting.attention_heatmap(w, list("abcdef"), ax=ax)
    return fig


def test_style_has_no_text_under_the_minimum():
    rc = matplotlib.rcParams
    for key in ("font.size", "axes.titlesize", "axes.labelsize", "xtick.labelsize", "ytick.labelsize",
                "legend.fontsize", "legend.title_fontsize", "figure.titlesize"):
        size = matplotlib.font_manager.FontProperties(size=rc[key]).get_size_in_points()
        assert size >= plotting.MIN_FONT_PT, (key, size)


def test_small_text_is_raised_to_the_minimum():
    fig, ax = plt.subplots()
    ax.set_title("tiny", fontsize=5)
    ax.text(0, 0, "label", fontsize=6)
    ax.tick_params(labelsize=4)
    plotting.figure_to_png(fig, close=False)
    texts = fig.findobj(matplotlib.text.Text)
    assert min(t.get_fontsize() for t in texts if t.get_text()) >= plotting.MIN_FONT_PT
    assert ax.title.get_fontsize() == plotting.MIN_FONT_PT
    plt.close(fig)


def test_density_multiplies_pixels_at_the_same_displayed_size():
    one = plotting.figure_to_png(_heatmap_figure(), density=1)
    two = plotting.figure_to_png(_heatmap_figure(), density=2)
    (w1, h1), (w2, h2) = plotting.png_size(one), plotting.png_size(two)
    assert abs(w2 / w1 - 2) < 0.02 and abs(h2 / h1 - 2) < 0.02
    assert w1 == pytest.approx(4 * 72, rel=0.25)  # about the figure's width at 72 px per inch


def test_256_colours_cut_the_size_and_lose_nothing_visible():
    from PIL import Image

    fig = _heatmap_figure()
    full = plotting.figure_to_png(fig, density=1.5, close=False)
    small = plotting.figure_to_png(fig, density=1.5, colors=256)
    a, b = Image.open(io.BytesIO(full)), Image.open(io.BytesIO(small))
    assert a.mode == "RGB" and b.mode == "P"  # opaque: no alpha channel; indexed
    assert len(small) < 0.6 * len(full)
    if a.size == b.size:  # two renders of one figure normally agree pixel for pixel
        diff = np.abs(np.asarray(a, dtype=int) - np.asarray(b.convert("RGB"), dtype=int))
        assert diff.max() <= 16


def test_inline_formatter_gives_dense_png_with_displayed_size():
    fig = _heatmap_figure()
    data, metadata = plotting._inline_png(fig)
    w, _ = plotting.png_size(base64.b64decode(data))
    assert w / metadata["width"] == pytest.approx(plotting.STATIC_DENSITY, abs=0.02)
    assert plotting._inline_png(plt.figure()) is None  # an empty figure shows nothing
    plt.close("all")


def test_notebook_figures_are_dense(tmp_path):
    """In a real kernel, importing the module makes plt.show() output 2x PNGs with width metadata."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("import matplotlib.pyplot as plt\nimport transformer_lib.plotting"),
        nbformat.v4.new_code_cell("plt.plot([1, 2, 3])\nplt.title('line', fontsize=6)\nplt.show()"),
    ])
    resources = {"metadata": {"path": str(tmp_path)}}
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3", resources=resources).execute()
    (out,) = nb.cells[1].outputs
    w, _ = plotting.png_size(base64.b64decode(out["data"]["image/png"]))
    shown = out["metadata"]["image/png"]["width"]
    assert w / shown >= 1.9, (w, shown)


def test_bad_arguments_are_named():
    w = np.full((3, 3), 1 / 3)
    with pytest.raises(TypeError, match="weights must be a tensor, an array or a nested list"):
        plotting.attention_heatmap(None)
    with pytest.raises(TypeError, match="matrix must be a tensor"):
        plotting.matrix_heatmap("abc")
    with pytest.raises(TypeError, match="query_tokens must be a list of labels"):
        plotting.attention_heatmap(w, 3)
    with pytest.raises(TypeError, match="ax must be a matplotlib Axes"):
        plotting.attention_heatmap(w, ax="left")
    assert plotting.attention_heatmap(w, "abc").get_xticklabels()[2].get_text() == "c"  # characters
    plt.close("all")


def test_attention_grid_refuses_what_it_cannot_draw():
    with pytest.raises(ValueError, match="needs T == S"):
        plotting.attention_grid(np.full((2, 3, 4), 0.25), list("abcd"))
    with pytest.raises(ValueError, match="ncols must be a positive integer"):
        plotting.attention_grid(np.full((2, 3, 3), 1 / 3), ncols=0)
    with pytest.raises(ValueError, match="no matrix to draw"):
        plotting.attention_grid(np.zeros((0, 3, 3)))


def test_pipeline_diagram_checks_its_stages():
    with pytest.raises(TypeError, match="stages must be a list of"):
        plotting.pipeline_diagram("abc")
    with pytest.raises(ValueError, match=r"stages\[1\] must be a \(label, note\) pair"):
        plotting.pipeline_diagram([("a", ""), ("b",)])
    with pytest.raises(ValueError, match="repeat must be"):
        plotting.pipeline_diagram([("a", "")], repeat=(0, 0))


def test_rendering_checks_its_numbers():
    fig = plt.figure()
    with pytest.raises(TypeError, match="fig must be a matplotlib Figure"):
        plotting.figure_to_png(None)
    for bad in ({"density": 0}, {"density": float("nan")}, {"dpi": -72}):
        with pytest.raises(ValueError, match=f"{next(iter(bad))} must be a positive number"):
            plotting.figure_to_png(fig, close=False, **bad)
    with pytest.raises(ValueError, match="colors must be None"):
        plotting.figure_to_png(fig, close=False, colors=1000)
    with pytest.raises(ValueError, match="not PNG data"):
        plotting.png_size(b"\x89PNG\r\n\x1a\n")
    plt.close(fig)
