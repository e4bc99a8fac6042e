"""The live explorer's tokenizer (book/_ext/static/live-explorer.js) gives the Python ids.

The page tokenizes the reader's text itself; the model only agrees with
transformer_lib when the ids are the same. node runs the JavaScript tokenizer on
many texts (accents, punctuation, symbols, unknown words, Chinese and other
scripts, control characters, words over 100 characters, texts over the model's
256-token limit) and every id list must equal ``load_bert()``'s tokenizer's.
"""
from __future__ import annotations

import json
import random
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "book" / "_ext" / "static" / "live-explorer.js"

TEXTS = [
    "", " ", "Hello, world!", "The robot picked up the ball because it was light.",
    "Crème brûlée, naïve café, Ångström, Øresund, façade, jalapeño.",
    "ÀÉÎÕÜ ÇÑ ÿ Ÿ ß ẞ İstanbul ǅ ﬁne",
    "e\u0301 vs \u00e9 and A\u030a", "ΣΟΦΙΑ σοφία Οδυσσεύς", "Москва́ и Санкт-Петербург",
    "今天晚上吃汉堡", "我们的机器人必须服从命令。", "東京タワーに行きましょう", "한국어 문장입니다",
    "mixed中文and English字", "𠀀𪜀 rare ideographs 𫝀", "emoji 😀🤖 and ✨ symbols ©®™ €5 £3 ¥",
    "don't won't I'm y'all (x+y)=z; a|b ~tilde ^caret `tick` $100 #tag @user",
    "hyphen-ated em—dash en–dash ‘quotes’ “double” «guillemets» …ellipsis",
    "tab\tnew\nline\rcarriage  multiple   spaces\u00a0nbsp\u2003em\u3000ideographic",
    "zero\u200bwidth soft\u00adhyphen bom\ufeffmark nul\x00char replace\ufffdchar ctrl\x07bell",
    "supercalifragilisticexpialidocious antidisestablishmentarianism",
    "x" * 100, "y" * 101, "word " + "z" * 150 + " word",
    "qwrtypsdfghjklzxcvbnm qqqqqq xyzzy flibbertigibbet",
    "COVID-19 GPT-4o 3.14159 1,000,000 2026-11-30 10:30am",
    "https://example.org/path?q=1&r=2 user@example.com",
    "ﾃｽﾄ ＡＢＣ １２３ full-width",
    "the " * 300,
    "Attention is all you need. " * 40,
]


def random_texts(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    pools = ["abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", " " * 8,
             ".,;:!?'\"()-", "éèêëàâäôöûüçñ", "的一是不了人我在有他这为之大来以个中上们",
             "αβγδεζ", "0123456789", "😀#$%&*+/<=>@[]^_`{|}~"]
    out = []
    for _ in range(n):
        length = rng.randint(1, 120)
        out.append("".join(rng.choice(rng.choice(pools)) for _ in range(length)))
    return out


NODE_RUNNER = """
const fs = require('fs');
const {WordPieceTokenizer} = require(process.argv[2]);
const data = JSON.parse(fs.readFileSync(process.argv[3], 'utf8'));
const tok = new WordPieceTokenizer(data.vocab, data.config);
process.stdout.write(JSON.stringify(data.texts.map((t) => tok.encode(t))));
"""


def test_javascript_tokenizer_matches_python(tmp_path):
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is needed (scripts/setup.sh uses npm, which comes with node)")
    from transformer_lib.pretrained.bert import load_bert

    _, tokenizer = load_bert()
    vocab = tokenizer.backend.get_vocab()
    texts = TEXTS + random_texts(300)
    config = {"max_length": tokenizer.max_length, "cls_id": vocab["[CLS]"], "sep_id": vocab["[SEP]"],
              "unk_id": vocab["[UNK]"], "max_input_chars_per_word": 100}
    data = tmp_path / "data.json"
    data.write_text(json.dumps({"vocab": sorted(vocab, key=vocab.get), "config": config, "texts": texts}))
    runner = tmp_path / "run.js"
    runner.write_text(NODE_RUNNER)
    done = subprocess.run([node, str(runner), str(SCRIPT), str(data)], capture_output=True, text=True,
                          timeout=120, check=True)
    got = json.loads(done.stdout)
    wrong = [(t, g, tokenizer.encode(t)) for t, g in zip(texts, got) if g != tokenizer.encode(t)]
    assert not wrong, f"{len(wrong)} of {len(texts)} texts differ, e.g. {wrong[:3]}"
    assert max(len(ids) for ids in got) == tokenizer.max_length  # the long texts were cut like Python's
