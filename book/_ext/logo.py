"""The book's logo and favicon: a causal attention pattern, drawn from one definition.

    python book/_ext/logo.py          # rewrites book/_assets/logo.svg, favicon.png, favicon.ico

A 4 x 4 grid of attention weights (rows: queries, columns: keys), coloured with the
book's attention colormap (viridis) where a query may attend (on and below the
diagonal), empty above it, as in the masked-attention chapter. The SVG is the logo in
the sidebar; the PNG and ICO (the same grid drawn with Pillow, no SVG renderer needed)
are the favicon. The files are committed; running this again gives the same bytes.
"""
from __future__ import annotations

import io
from pathlib import Path

ASSETS = Path(__file__).resolve().parent.parent / "_assets"

#: Attention weights of the logo, one row per query (each row sums to 1 over its keys).
WEIGHTS = [
    [1.00],
    [0.30, 0.70],
    [0.15, 0.25, 0.60],
    [0.10, 0.15, 0.25, 0.50],
]
# viridis at 0, 0.25, 0.5, 0.75, 1 (the book's ATTENTION_CMAP)
VIRIDIS = [(0x44, 0x01, 0x54), (0x3B, 0x52, 0x8B), (0x21, 0x91, 0x8C), (0x5E, 0xC9, 0x62), (0xFD, 0xE7, 0x25)]
BACKGROUND = (0x1F, 0x2A, 0x44)
EMPTY = (0x2E, 0x3D, 0x5C)
SIZE, PAD, GAP = 64, 8, 3  # SVG units: canvas, margin, space between cells
RADIUS = 10


def viridis(x: float) -> tuple[int, int, int]:
    """Linear interpolation between the five viridis anchors (enough for four cells)."""
    x = min(max(x, 0.0), 1.0) * (len(VIRIDIS) - 1)
    i = min(int(x), len(VIRIDIS) - 2)
    t = x - i
    return tuple(round(a + (b - a) * t) for a, b in zip(VIRIDIS[i], VIRIDIS[i + 1]))


def cells():
    """(row, column, colour) of every cell; colour None above the diagonal (masked)."""
    n = len(WEIGHTS)
    for i in range(n):
        for j in range(n):
            yield i, j, (viridis(0.15 + 0.85 * WEIGHTS[i][j]) if j <= i else None)


def _hex(rgb) -> str:
    return "#" + "".join(f"{c:02x}" for c in rgb)


def svg() -> str:
    n = len(WEIGHTS)
    cell = (SIZE - 2 * PAD - (n - 1) * GAP) / n
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {SIZE} {SIZE}" width="{SIZE}" '
        f'height="{SIZE}" role="img" aria-labelledby="title">',
        '<title id="title">Inside the Transformer: a causal attention pattern</title>',
        f'<rect width="{SIZE}" height="{SIZE}" rx="{RADIUS}" fill="{_hex(BACKGROUND)}"/>',
    ]
    for i, j, colour in cells():
        x, y = PAD + j * (cell + GAP), PAD + i * (cell + GAP)
        fill = _hex(colour) if colour else _hex(EMPTY)
        parts.append(f'<rect x="{x:g}" y="{y:g}" width="{cell:g}" height="{cell:g}" rx="2" fill="{fill}"/>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def raster(px: int):
    """The same drawing as a Pillow image of px x px pixels (drawn 4x larger, then reduced)."""
    from PIL import Image, ImageDraw

    scale = 4 * px / SIZE
    big = Image.new("RGBA", (4 * px, 4 * px), (0, 0, 0, 0))
    draw = ImageDraw.Draw(big)
    draw.rounded_rectangle([0, 0, 4 * px - 1, 4 * px - 1], radius=RADIUS * scale, fill=BACKGROUND)
    n = len(WEIGHTS)
    cell = (SIZE - 2 * PAD - (n - 1) * GAP) / n
    for i, j, colour in cells():
        x, y = PAD + j * (cell + GAP), PAD + i * (cell + GAP)
        box = [x * scale, y * scale, (x + cell) * scale - 1, (y + cell) * scale - 1]
        draw.rounded_rectangle(box, radius=2 * scale, fill=colour or EMPTY)
    return big.resize((px, px), Image.Resampling.LANCZOS)


def write(folder: Path = ASSETS) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "logo.svg").write_text(svg(), encoding="utf-8")
    png = io.BytesIO()
    raster(180).save(png, format="PNG", optimize=True)
    (folder / "favicon.png").write_bytes(png.getvalue())
    ico = io.BytesIO()
    raster(64).save(ico, format="ICO", sizes=[(16, 16), (32, 32), (48, 48), (64, 64)])
    (folder / "favicon.ico").write_bytes(ico.getvalue())
    return [folder / name for name in ("logo.svg", "favicon.png", "favicon.ico")]


if __name__ == "__main__":
    for path in write():
        print(f"wrote {path} ({path.stat().st_size} bytes)")
