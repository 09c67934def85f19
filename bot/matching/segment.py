"""Chinese word segmentation with our own jieba.Tokenizer, so the domain words stay whole."""

from __future__ import annotations

import logging

from bot.knowledge import Lexicon

#: Least frequency of every word in the synonym table, so jieba keeps each one in one piece.
SYNONYM_WORD_FREQUENCY = 20000
#: Least frequency, in jieba's dictionary, of a word in everyday use.
EVERYDAY_WORD_FREQUENCY = 100


class Segmenter:
    """A private jieba tokenizer: reloading one knowledge base never changes another's words."""

    def __init__(self, lexicon: Lexicon):
        # Imported where a base is first read, not by every flask command (faq lint, the console's start).
        import jieba

        # jieba announces every dictionary load on the root of its own logger; that is noise in ours.
        jieba.setLogLevel(logging.WARNING)
        self._tokenizer = jieba.Tokenizer()
        self._tokenizer.initialize()
        for word, frequency, tag in lexicon.user_words:
            self._tokenizer.add_word(word, frequency, tag)
        for variant, canonical in lexicon.synonyms.items():
            for word in (variant, canonical):
                if len(word) > 1 and self._tokenizer.FREQ.get(word, 0) < SYNONYM_WORD_FREQUENCY:
                    self._tokenizer.add_word(word, SYNONYM_WORD_FREQUENCY)

    def knows_well(self, word: str) -> bool:
        """Whether the word is in the dictionary as an everyday word (进门 872, 部分 27,619), not a rare entry
        (深证, the stock index, 25) or only the prefix of one (listed with frequency 0)."""
        return self._tokenizer.FREQ.get(word, 0) >= EVERYDAY_WORD_FREQUENCY

    def cut(self, text: str) -> list[str]:
        """Words of a normalised text, without the spaces between them."""
        return [word for word in self._tokenizer.lcut(text, HMM=False) if not word.isspace()]
