"""A checkpoint's own tokenizer (``tokenizer.json``), returning (B, T) tensors for the models.

:func:`load_tokenizer` reads ``tokenizer.json`` with the ``tokenizers`` package
(imported only when a tokenizer is loaded) and wraps it in
:class:`PretrainedTokenizer`, which batches and pads sentences the way the
Hugging Face tokenizers do for BERT.
"""
from __future__ import annotations

import torch

from .checkpoint import CheckpointError, checkpoint_folder, config_field, read_config, read_json_object

__all__ = ["PretrainedTokenizer", "load_tokenizer"]


def _check_text(text) -> str:
    if not isinstance(text, str):
        raise TypeError(
            f"text must be a str, got {type(text).__name__}; for several texts call the tokenizer on a list"
        )
    return text


class PretrainedTokenizer:
    """A checkpoint's own tokenizer (``tokenizer.json``), returning tensors for the models.

    A thin wrapper around the ``tokenizers`` package: it batches sentences, pads
    them to the longest one, truncates at ``max_length`` and returns
    ``input_ids``, ``attention_mask`` and ``token_type_ids`` as (B, T) tensors.

    Args:
        tokenizer: a ``tokenizers.Tokenizer``.
        max_length: longest sequence (special tokens included); None = no limit.
    """

    def __init__(self, tokenizer, max_length: int | None = None):
        if max_length is not None and (isinstance(max_length, bool) or not isinstance(max_length, int)
                                       or max_length < 2):
            raise ValueError(f"max_length must be None or an int >= 2 (room for [CLS] and [SEP]), got {max_length!r}")
        self.backend = tokenizer
        self.max_length = max_length
        # tokenizer.json may carry a fixed padding/truncation; this wrapper decides instead.
        tokenizer.no_padding()
        tokenizer.no_truncation()
        if max_length is not None:
            tokenizer.enable_truncation(max_length=max_length)
        vocab = tokenizer.get_vocab()
        self.pad_token = next((t for t in ("[PAD]", "<pad>") if t in vocab), None)
        self.pad_id = vocab[self.pad_token] if self.pad_token is not None else None

    @property
    def vocab_size(self) -> int:
        return self.backend.get_vocab_size()

    def __repr__(self) -> str:
        return f"PretrainedTokenizer(vocab_size={self.vocab_size}, max_length={self.max_length})"

    def encode(self, text: str) -> list[int]:
        """One text -> its token ids (special tokens such as [CLS]/[SEP] included)."""
        return self.backend.encode(_check_text(text)).ids

    def tokenize(self, text: str) -> list[str]:
        """One text -> its tokens as strings, e.g. ``['[CLS]', 'robot', ..., '[SEP]']``."""
        return self.backend.encode(_check_text(text)).tokens

    def _check_ids(self, ids) -> list[int]:
        """A list or 1-D tensor of ids, each in [0, vocab_size) -> list of ints."""
        if isinstance(ids, torch.Tensor):
            if ids.dim() != 1 or ids.is_floating_point() or ids.is_complex() or ids.dtype == torch.bool:
                raise TypeError(f"ids must be a 1-D tensor of integer ids, got shape {tuple(ids.shape)}, {ids.dtype}")
            ids = ids.tolist()
        if not isinstance(ids, (list, tuple)) or not all(
            isinstance(i, int) and not isinstance(i, bool) for i in ids
        ):
            raise TypeError(f"ids must be a list of ints or a 1-D integer tensor, got {ids!r:.80}")
        bad = [i for i in ids if not 0 <= i < self.vocab_size]
        if bad:
            raise ValueError(f"ids {bad[:5]} are outside the vocabulary [0, {self.vocab_size - 1}]")
        return list(ids)

    def decode(self, ids) -> str:
        """Token ids (list or 1-D tensor) -> text."""
        return self.backend.decode(self._check_ids(ids))

    def token_to_id(self, token: str) -> int:
        """The id of one vocabulary entry, e.g. ``token_to_id("[CLS]") == 101``."""
        token_id = self.backend.token_to_id(token)
        if token_id is None:
            raise KeyError(f"token {token!r} is not in the vocabulary")
        return token_id

    def convert_ids_to_tokens(self, ids) -> list[str]:
        """Token ids (list or 1-D tensor) -> their vocabulary entries, e.g. ``['[CLS]', 'robot']``."""
        return [self.backend.id_to_token(i) for i in self._check_ids(ids)]

    @staticmethod
    def _check_texts(name: str, texts) -> list[str]:
        if isinstance(texts, str):
            texts = [texts]
        if not isinstance(texts, (list, tuple)) or not texts or not all(isinstance(t, str) for t in texts):
            raise TypeError(f"{name} must be a string or a non-empty list of strings, got {texts!r}")
        return list(texts)

    def __call__(self, texts, text_pairs=None) -> dict[str, torch.Tensor]:
        """Texts -> padded (B, T) ``input_ids``, ``attention_mask``, ``token_type_ids``.

        ``text_pairs`` (optional, one per text) makes sentence pairs
        ``[CLS] text [SEP] pair [SEP]``, the pair's tokens with token type 1.
        """
        texts = self._check_texts("texts", texts)
        if text_pairs is None:
            encodings = self.backend.encode_batch(texts)
        else:
            text_pairs = self._check_texts("text_pairs", text_pairs)
            if len(text_pairs) != len(texts):
                raise ValueError(f"text_pairs must hold one text per text: got {len(text_pairs)} for {len(texts)}")
            encodings = self.backend.encode_batch(list(zip(texts, text_pairs)))
        longest = max(len(e.ids) for e in encodings)
        if self.pad_id is None and any(len(e.ids) != longest for e in encodings):
            raise ValueError("this tokenizer has no padding token: pass texts one at a time")
        pad = self.pad_id if self.pad_id is not None else 0
        input_ids = torch.full((len(texts), longest), pad, dtype=torch.long)  # (B, T)
        attention_mask = torch.zeros((len(texts), longest), dtype=torch.long)  # (B, T)
        token_type_ids = torch.zeros((len(texts), longest), dtype=torch.long)  # (B, T)
        for row, enc in enumerate(encodings):
            n = len(enc.ids)
            input_ids[row, :n] = torch.tensor(enc.ids, dtype=torch.long)
            attention_mask[row, :n] = 1
            token_type_ids[row, :n] = torch.tensor(enc.type_ids, dtype=torch.long)
        return {"input_ids": input_ids, "attention_mask": attention_mask, "token_type_ids": token_type_ids}


def load_tokenizer(path, max_length: int | None = None) -> PretrainedTokenizer:
    """Read ``tokenizer.json`` from a checkpoint folder.

    ``max_length`` defaults to sentence-transformers' ``max_seq_length`` when the
    folder has a ``sentence_bert_config.json``, else to the model's
    ``max_position_embeddings`` / ``n_positions``.
    """
    try:
        from tokenizers import Tokenizer
    except ImportError:
        raise ModuleNotFoundError(
            "reading tokenizer.json needs the tokenizers package: `pip install tokenizers`"
        ) from None

    folder = checkpoint_folder(path)
    tokenizer_file = folder / "tokenizer.json"
    if not tokenizer_file.is_file():
        raise FileNotFoundError(f"no tokenizer.json in {str(folder)!r}")
    if max_length is None:
        st_config = folder / "sentence_bert_config.json"
        if st_config.is_file():
            max_length = config_field(read_json_object(st_config), "max_seq_length", st_config, default=None)
    if max_length is None and (folder / "config.json").is_file():
        config, config_file = read_config(folder), folder / "config.json"
        max_length = config_field(config, "max_position_embeddings", config_file,
                                  default=config_field(config, "n_positions", config_file, default=None))
    try:
        backend = Tokenizer.from_file(str(tokenizer_file))
    except Exception as error:  # the tokenizers package raises a bare Exception for a malformed file
        raise CheckpointError(f"{tokenizer_file}: not a readable tokenizer.json: {error}") from None
    return PretrainedTokenizer(backend, max_length=max_length)
