/* The live attention explorer of chapter 14: MiniLM runs in the reader's browser.
 *
 * A page opts in with an element <div class="tl-live-explorer"></div> (a Markdown cell
 * of the notebook); book/_ext/book_ext.py adds this script to such pages only. Nothing
 * large is fetched until the reader presses the button: then the ONNX runtime
 * (onnxruntime-web, wasm-only build, one thread), the model exported by
 * scripts/export_onnx.py (float16 weights) and its vocabulary come from the book's own
 * _static/ folder.
 *
 * The tokenizer below reproduces the Python tokenizer (tokenizers' BertNormalizer with
 * lower-casing, accent stripping, control-character cleaning and spaces around CJK
 * ideographs; BertPreTokenizer's split on whitespace and punctuation; WordPiece with
 * "##", [UNK] for words over 100 characters; [CLS] ... [SEP], cut at the model's
 * max_length). tests/test_live_tokenizer.py checks it against the Python tokenizer
 * with node.
 *
 * For tests and curious readers, the explorer element carries what it shows:
 * data-state (idle, loading, ready, busy, error, empty, too-long), data-token-ids,
 * data-tokens, data-layer, data-head, data-weights (JSON, the shown head's T x T
 * matrix), data-text (the text they were computed for) and data-ms (the last run).
 */
(function (root) {
  'use strict';

  // ---- tokenizer ---------------------------------------------------------------------
  const CJK_RANGES = [
    [0x4e00, 0x9fff], [0x3400, 0x4dbf], [0x20000, 0x2a6df], [0x2a700, 0x2b73f],
    [0x2b740, 0x2b81f], [0x2b820, 0x2ceaf], [0xf900, 0xfaff], [0x2f800, 0x2fa1f],
  ];
  const RE_CONTROL = /\p{C}/u;
  const RE_SPACE = /\p{White_Space}/u;
  const RE_PUNCT = /\p{P}/u;
  const RE_MARK = /\p{Mn}/gu;

  function isChinese(cp) {
    return CJK_RANGES.some(([a, b]) => cp >= a && cp <= b);
  }
  function isWhitespace(c) {
    return c === '\t' || c === '\n' || c === '\r' || RE_SPACE.test(c);
  }
  function isControl(c) {
    return !(c === '\t' || c === '\n' || c === '\r') && RE_CONTROL.test(c);
  }
  function isPunctuation(c) {
    const cp = c.codePointAt(0);
    return (cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) ||
      (cp >= 123 && cp <= 126) || RE_PUNCT.test(c);
  }

  function normalize(text) {
    let out = '';
    for (const c of text) {
      const cp = c.codePointAt(0);
      if (cp === 0 || cp === 0xfffd || isControl(c)) continue;
      const d = isWhitespace(c) ? ' ' : c;
      out += isChinese(cp) ? ' ' + d + ' ' : d;
    }
    out = out.normalize('NFD').replace(RE_MARK, '');
    return Array.from(out, (c) => c.toLowerCase()).join('');
  }

  function preTokenize(text) {
    const words = [];
    let word = '';
    for (const c of text) {
      if (isWhitespace(c)) {
        if (word) words.push(word);
        word = '';
      } else if (isPunctuation(c)) {
        if (word) words.push(word);
        words.push(c);
        word = '';
      } else {
        word += c;
      }
    }
    if (word) words.push(word);
    return words;
  }

  class WordPieceTokenizer {
    /* vocab: array of tokens (id = index); config: live-config.json's fields. */
    constructor(vocab, config) {
      this.vocab = vocab;
      this.ids = new Map(vocab.map((t, i) => [t, i]));
      this.maxChars = config.max_input_chars_per_word || 100;
      this.maxLength = config.max_length || 512;
      this.cls = config.cls_id;
      this.sep = config.sep_id;
      this.unk = config.unk_id;
    }

    wordIds(word) {
      const chars = Array.from(word);
      if (chars.length > this.maxChars) return [this.unk];
      const out = [];
      let start = 0;
      while (start < chars.length) {
        let end = chars.length;
        let found = null;
        while (start < end) {
          const piece = (start > 0 ? '##' : '') + chars.slice(start, end).join('');
          if (this.ids.has(piece)) {
            found = this.ids.get(piece);
            break;
          }
          end -= 1;
        }
        if (found === null) return [this.unk];
        out.push(found);
        start = end;
      }
      return out;
    }

    /* text -> {ids, untruncated}: ids with [CLS]/[SEP], cut at maxLength like Python. */
    encodeFull(text) {
      const body = [];
      for (const word of preTokenize(normalize(text))) body.push(...this.wordIds(word));
      return {ids: [this.cls, ...body.slice(0, this.maxLength - 2), this.sep], length: body.length + 2};
    }

    encode(text) {
      return this.encodeFull(text).ids;
    }

    tokens(ids) {
      return ids.map((i) => this.vocab[i]);
    }
  }

  const api = {normalize, preTokenize, WordPieceTokenizer};
  if (typeof module !== 'undefined' && module.exports) {
    module.exports = api;
    return;
  }
  root.tlLive = api;

  // ---- the explorer ------------------------------------------------------------------
  const SCRIPT = document.currentScript;
  const STATIC = SCRIPT ? SCRIPT.src.replace(/[^/]*(\?.*)?$/, '') : '_static/';
  /* The longest sentence drawn (tokens with [CLS] and [SEP]); the model takes 256. */
  const MAX_SHOWN = 64;
  const WORDS = {
    en: {
      intro: 'Type your own sentence and see MiniLM\u2019s real attention, computed in this page.',
      button: 'Run the model in your browser (about 60 MB)',
      loading: 'Loading', ready: 'Ready', text: 'Sentence', layer: 'Layer', head: 'Head',
      empty: 'Type a sentence: the box is empty.',
      tooLong: (n) => `This text has ${n} tokens; the explorer draws at most ${MAX_SHOWN}. Shorten it.`,
      noWasm: 'This browser cannot run WebAssembly, which the model needs. The pictures above still work.',
      failed: 'The model could not be loaded: ',
      caption: (l, h) => `Layer ${l}, head ${h}: each row is a token (query), each column the token it attends to.`,
      tokens: 'tokens',
      ms: (ms) => `computed in ${ms} ms`,
      example: 'The robot picked up the ball because it was light.',
    },
    zh: {
      intro: '输入你自己的句子，查看 MiniLM 在本页中实时计算的真实注意力。',
      button: '在浏览器中运行模型（约 60 MB）',
      loading: '加载中', ready: '就绪', text: '句子', layer: '层', head: '头',
      empty: '请输入句子：输入框是空的。',
      tooLong: (n) => `这段文字有 ${n} 个词元；最多显示 ${MAX_SHOWN} 个，请缩短。`,
      noWasm: '此浏览器不支持 WebAssembly，无法运行模型。上面的图片仍然可用。',
      failed: '模型加载失败：',
      caption: (l, h) => `第 ${l} 层，第 ${h} 个头：每行是一个词元（查询），每列是它关注的词元。`,
      tokens: '个词元',
      ms: (ms) => `用时 ${ms} 毫秒`,
      example: 'The robot picked up the ball because it was light.',
    },
  };
  const lang = (document.documentElement.lang || 'en').toLowerCase().startsWith('zh') ? 'zh' : 'en';
  const W = WORDS[lang];

  function el(tag, attrs, children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'text') e.textContent = v;
      else e.setAttribute(k, v);
    }
    for (const c of children || []) e.appendChild(c);
    return e;
  }

  function loadScript(src) {
    return new Promise((resolve, reject) => {
      const s = el('script', {src});
      s.onload = resolve;
      s.onerror = () => reject(new Error('could not load ' + src));
      document.head.appendChild(s);
    });
  }

  async function fetchWithProgress(url, onProgress) {
    const answer = await fetch(url);
    if (!answer.ok) throw new Error(`${url}: HTTP ${answer.status}`);
    const total = Number(answer.headers.get('Content-Length')) || 0;
    if (!answer.body || !answer.body.getReader) return new Uint8Array(await answer.arrayBuffer());
    const reader = answer.body.getReader();
    const parts = [];
    let got = 0;
    for (;;) {
      const {done, value} = await reader.read();
      if (done) break;
      parts.push(value);
      got += value.length;
      onProgress(got, total);
    }
    const out = new Uint8Array(got);
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }

  class LiveExplorer {
    constructor(box) {
      this.box = box;
      box.dataset.state = 'idle';
      this.button = el('button', {type: 'button', class: 'tl-live-button', text: W.button});
      this.progress = el('progress', {class: 'tl-live-progress', max: '1', value: '0', hidden: ''});
      this.message = el('p', {class: 'tl-live-message', role: 'status', 'aria-live': 'polite'});
      box.appendChild(el('p', {class: 'tl-live-intro', text: W.intro}));
      box.appendChild(el('div', {class: 'tl-live-start'}, [this.button, this.progress]));
      box.appendChild(this.message);
      this.button.addEventListener('click', () => this.start());
    }

    say(text, state) {
      this.message.textContent = text;
      if (state) this.box.dataset.state = state;
    }

    async start() {
      if (typeof WebAssembly !== 'object' || typeof WebAssembly.instantiate !== 'function') {
        this.say(W.noWasm, 'error');
        return;
      }
      this.button.disabled = true;
      this.progress.hidden = false;
      this.box.dataset.state = 'loading';
      try {
        const base = STATIC + 'live-model/';
        const config = await (await fetch(base + 'live-config.json')).json();
        this.config = config;
        const [vocabText] = await Promise.all([
          fetch(base + 'vocab.txt').then((r) => r.text()),
          loadScript(STATIC + 'onnxruntime-web/ort.wasm.min.js'),
        ]);
        this.tokenizer = new WordPieceTokenizer(vocabText.split('\n').slice(0, -1), config);
        const model = await fetchWithProgress(base + config.model, (got, total) => {
          const all = total || config.bytes;
          this.progress.value = got / all;
          this.say(`${W.loading}: ${(got / 1e6).toFixed(0)} / ${(all / 1e6).toFixed(0)} MB`);
        });
        const ort = root.ort;
        ort.env.wasm.numThreads = 1;
        ort.env.wasm.proxy = false;
        ort.env.wasm.wasmPaths = STATIC + 'onnxruntime-web/';
        ort.env.logLevel = 'error';
        this.ort = ort;
        this.session = await ort.InferenceSession.create(model, {
          executionProviders: ['wasm'], logSeverityLevel: 3,
        });
      } catch (error) {
        this.progress.hidden = true;
        this.say(W.failed + (error && error.message ? error.message : String(error)), 'error');
        this.button.disabled = false;
        return;
      }
      this.progress.hidden = true;
      this.button.hidden = true;
      this.build();
    }

    build() {
      const cfg = this.config;
      this.input = el('input', {type: 'text', class: 'tl-live-text', 'aria-label': W.text, value: W.example});
      this.layer = el('select', {class: 'tl-live-layer', 'aria-label': W.layer});
      this.head = el('select', {class: 'tl-live-head', 'aria-label': W.head});
      for (let i = 0; i < cfg.n_layers; i++) this.layer.appendChild(el('option', {value: i, text: i}));
      for (let i = 0; i < cfg.n_heads; i++) this.head.appendChild(el('option', {value: i, text: i}));
      this.layer.value = String(Math.min(3, cfg.n_layers - 1));
      this.head.value = String(Math.min(1, cfg.n_heads - 1));
      this.canvas = el('canvas', {class: 'tl-live-canvas', role: 'img'});
      this.caption = el('p', {class: 'tl-live-caption'});
      const controls = el('div', {class: 'tl-live-controls'}, [
        el('label', {}, [document.createTextNode(W.text + ' '), this.input]),
        el('label', {}, [document.createTextNode(W.layer + ' '), this.layer]),
        el('label', {}, [document.createTextNode(W.head + ' '), this.head]),
      ]);
      this.box.insertBefore(controls, this.message);
      this.box.appendChild(this.canvas);
      this.box.appendChild(this.caption);
      this.input.addEventListener('input', () => this.request());
      this.layer.addEventListener('change', () => this.draw());
      this.head.addEventListener('change', () => this.draw());
      this.running = false;
      this.request();
    }

    /* Latest text wins: while the model runs, only the newest request waits. */
    request() {
      this.pending = this.input.value;
      if (!this.running) this.run();
    }

    async run() {
      while (this.pending !== null && this.pending !== undefined) {
        const text = this.pending;
        this.pending = null;
        const {ids, length} = this.tokenizer.encodeFull(text);
        if (ids.length <= 2) {
          this.clear(text, ids);
          this.say(W.empty, 'empty');
          continue;
        }
        if (length > MAX_SHOWN) {
          this.clear(text, ids);
          this.say(W.tooLong(length), 'too-long');
          continue;
        }
        this.running = true;
        this.box.dataset.state = 'busy';
        try {
          const t0 = performance.now();
          const input = new this.ort.Tensor('int64', BigInt64Array.from(ids, (i) => BigInt(i)), [1, ids.length]);
          const out = await this.session.run({input_ids: input});
          this.weights = out.weights.data;
          this.ids = ids;
          this.text = text;
          this.ms = performance.now() - t0;
          for (const t of Object.values(out)) if (t.dispose) t.dispose();
        } catch (error) {
          this.running = false;
          this.say(W.failed + (error && error.message ? error.message : String(error)), 'error');
          return;
        }
        this.running = false;
        this.draw();
      }
    }

    clear(text, ids) {
      this.weights = null;
      this.box.dataset.text = text;
      this.box.dataset.tokenIds = JSON.stringify(ids);
      this.box.dataset.weights = '[]';
      this.canvas.hidden = true;
      this.caption.textContent = '';
    }

    draw() {
      if (!this.weights) return;
      const t0 = performance.now();
      const T = this.ids.length;
      const H = this.config.n_heads;
      const l = Number(this.layer.value);
      const h = Number(this.head.value);
      const at = (l * H + h) * T * T;
      const matrix = [];
      for (let i = 0; i < T; i++) matrix.push(Array.from(this.weights.subarray(at + i * T, at + (i + 1) * T)));
      const tokens = this.tokenizer.tokens(this.ids);
      this.paint(matrix, tokens);
      const d = this.box.dataset;
      d.text = this.text;
      d.tokenIds = JSON.stringify(this.ids);
      d.tokens = JSON.stringify(tokens);
      d.layer = String(l);
      d.head = String(h);
      d.weights = JSON.stringify(matrix);
      d.ms = this.ms.toFixed(1);
      d.drawMs = (performance.now() - t0).toFixed(1);
      this.canvas.hidden = false;
      this.canvas.setAttribute('aria-label', `${W.caption(l, h)} ${tokens.join(' ')}`);
      this.caption.textContent = W.caption(l, h);
      this.say(`${W.ready}: ${T} ${W.tokens}, ${W.ms(Math.round(this.ms))}`, 'ready');
    }

    paint(matrix, tokens) {
      const T = tokens.length;
      const ratio = window.devicePixelRatio || 1;
      // the page's fonts (the book's Chinese web font first), so that CJK tokens show
      const family = getComputedStyle(this.box).fontFamily || 'sans-serif';
      const ctx0 = this.canvas.getContext('2d');
      ctx0.font = `12px ${family}`;
      const label = Math.ceil(Math.max(...tokens.map((t) => ctx0.measureText(t).width))) + 8;
      const cell = Math.max(8, Math.min(28, Math.floor(480 / T)));
      const size = label + cell * T + 4;
      this.canvas.width = size * ratio;
      this.canvas.height = size * ratio;
      this.canvas.style.width = size + 'px';
      this.canvas.style.height = size + 'px';
      const ctx = this.canvas.getContext('2d');
      ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
      ctx.fillStyle = '#ffffff';
      ctx.fillRect(0, 0, size, size);
      for (let i = 0; i < T; i++) {
        for (let j = 0; j < T; j++) {
          const v = Math.max(0, Math.min(1, matrix[i][j]));
          // white (0) to dark blue (1)
          const r = Math.round(255 - v * (255 - 8));
          const g = Math.round(255 - v * (255 - 48));
          const b = Math.round(255 - v * (255 - 107));
          ctx.fillStyle = `rgb(${r},${g},${b})`;
          ctx.fillRect(label + j * cell, label + i * cell, cell, cell);
        }
      }
      ctx.fillStyle = '#222222';
      ctx.font = `${Math.min(12, Math.max(9, cell - 2))}px ${family}`;
      ctx.textBaseline = 'middle';
      ctx.textAlign = 'right';
      tokens.forEach((t, i) => ctx.fillText(t, label - 4, label + (i + 0.5) * cell));
      tokens.forEach((t, j) => {
        ctx.save();
        ctx.translate(label + (j + 0.5) * cell, label - 4);
        ctx.rotate(-Math.PI / 2);
        ctx.textAlign = 'left';
        ctx.fillText(t, 0, 0);
        ctx.restore();
      });
    }
  }

  function init() {
    document.querySelectorAll('.tl-live-explorer').forEach((box) => {
      if (!box.dataset.state) new LiveExplorer(box);
    });
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})(typeof window !== 'undefined' ? window : globalThis);
