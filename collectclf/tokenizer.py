"""The jieba tokenizer for normalised text: a private ``jieba.Tokenizer`` with the shipped domain
dictionary, built lazily once per process; placeholders stay whole; pieces are memoised."""

from __future__ import annotations

import functools
import re
import sys
import threading
from importlib import resources

from .text import PLACEHOLDER_RE, PLACEHOLDER_SYMBOL

__all__ = ["JiebaTokenizer"]

_TOKENIZERS: dict[str, object] = {}
_TOKENIZER_LOCK = threading.Lock()


def _jieba_instance(user_dict: str | None):
    """A private ``jieba.Tokenizer`` with the domain dictionary, built once per process."""
    key = user_dict or ""
    tokenizer = _TOKENIZERS.get(key)
    if tokenizer is not None:
        return tokenizer
    with _TOKENIZER_LOCK:
        if key not in _TOKENIZERS:
            import logging

            import jieba

            logging.getLogger("jieba").setLevel(logging.WARNING)
            jieba.setLogLevel(logging.WARNING)
            tk = jieba.Tokenizer()
            tk.initialize()
            source = resources.files("collectclf.resources") / "userdict.txt" if not user_dict else None
            with (open(user_dict, "rb") if user_dict else source.open("rb")) as handle:  # jieba leaves paths open
                tk.load_userdict(handle)
            _TOKENIZERS[key] = tk
    return _TOKENIZERS[key]


# jieba never joins characters across punctuation or whitespace (its blocks are runs of Chinese
# characters, letters, digits and +#&._%-), so cutting a text after such a run changes no token
# and makes the memoised pieces short phrases that recur across messages.
_BREAKS = r"，。！？；：、,!?;:()（）【】「」“”\s"
_CLAUSES = re.compile(f"[^{_BREAKS}]+[{_BREAKS}]*|[{_BREAKS}]+")


@functools.lru_cache(maxsize=32_768)
def _cut_piece(user_dict: str | None, piece: str) -> tuple[str, ...]:
    """jieba's words of one placeholder-free piece, without whitespace tokens.

    Memoised: once numbers are masked, the pieces between placeholders repeat across messages
    (templates, greetings, sign-offs), and jieba's result for a piece does not depend on its
    neighbours, so the cache changes speed only, never a token. Words are interned: the cached
    pieces share one string per distinct word, which keeps the cache to a few MiB.
    """
    return tuple(sys.intern(word) for word in _jieba_instance(user_dict).lcut(piece, HMM=False) if not word.isspace())


class JiebaTokenizer:
    """Callable tokenizer for normalised text: placeholders stay whole, the rest goes to jieba.

    Picklable and cheap to copy: the jieba instance is built lazily, once per process, and is
    not part of the state. Whitespace tokens are dropped.

    Parameters
    ----------
    user_dict : str, optional
        Path to a jieba user dictionary; the shipped domain dictionary when None.
    """

    def __init__(self, user_dict: str | None = None):
        self.user_dict = user_dict

    def __repr__(self) -> str:
        return f"JiebaTokenizer(user_dict={self.user_dict!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, JiebaTokenizer) and other.user_dict == self.user_dict

    def __hash__(self) -> int:
        return hash(("JiebaTokenizer", self.user_dict))

    def __call__(self, text: str) -> list[str]:
        tokens: list[str] = []
        for piece in PLACEHOLDER_RE.split(text):
            if piece in PLACEHOLDER_SYMBOL:
                tokens.append(piece)
            elif piece:
                for clause in _CLAUSES.findall(piece):
                    tokens.extend(_cut_piece(self.user_dict, clause))
        return tokens

    def tokenize(self, text: str) -> list[tuple[str, int, int]]:
        """Tokens of ``text`` with their ``(start, end)`` character offsets."""
        jieba_tk = _jieba_instance(self.user_dict)
        tokens: list[tuple[str, int, int]] = []
        position = 0
        for piece in PLACEHOLDER_RE.split(text):
            if not piece:
                continue
            if piece in PLACEHOLDER_SYMBOL:
                tokens.append((piece, position, position + len(piece)))
            else:
                for word, start, end in jieba_tk.tokenize(piece, HMM=False):
                    if not word.isspace():
                        tokens.append((word, position + start, position + end))
            position += len(piece)
        return tokens
