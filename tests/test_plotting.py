"""Tests of the book's figure style (transformer_lib.plotting)."""
import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from transformer_lib import plotting  # noqa: E402


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
