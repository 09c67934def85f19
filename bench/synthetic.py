"""A knowledge base grown to N entries for the benchmarks: the project's own entries plus synthetic ones.

Each synthetic entry copies a real entry's questions with its product word (家庭共济, 亲情账户 …) swapped for
another everyday noun phrase from jieba's dictionary (住房补贴, 养老服务 …), so the new entries look like
questions about other services, are distinct from each other, and share the real entries' grammar: the hard
case for a matcher, which must still send the real questions to the real entries.

Run: `.venv/bin/python bench/synthetic.py 1000 /tmp/kb1000` (the benchmarks call `grow` themselves).
"""

from __future__ import annotations

import random
import re
import shutil
import sys
from pathlib import Path

import jieba
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import bot.knowledge as knowledge  # noqa: E402

#: The words that make a question about our products; synthetic entries replace them.
PRODUCT_WORDS = re.compile("家庭共济|医保亲情账户|亲情账户|亲情帐户|共济账户|家庭账户|共济|亲情")
QUESTIONS_PER_ENTRY = 16
#: Longer questions (stories) are not copied: a 100-character story with one noun swapped is the same story, a
#: near-duplicate of the real entry's, not a question about another service.
LONGEST_COPIED = 40
#: Questions any service gets, for templates whose questions rarely name the product.
FILLERS = ("{}怎么办理", "{}是什么", "{}在哪里申请", "{}要带什么材料", "{}多久能办好", "{}能网上办吗", "{}找谁办")


def nouns(count: int, seed: int = 0, taken: frozenset[str] = frozenset()) -> list[str]:
    """Distinct two-character nouns from jieba's dictionary, common ones first, shuffled reproducibly; none of
    `taken`."""
    words = []
    with open(Path(jieba.__file__).parent / "dict.txt", encoding="utf-8") as dictionary:
        for line in dictionary:
            word, frequency, tag = line.split()
            usable = len(word) == 2 and tag == "n" and int(frequency) > 200
            if usable and not PRODUCT_WORDS.search(word) and word not in taken:
                words.append(word)
    random.Random(seed).shuffle(words)
    return words[:count]


def grow(entries: int, target: Path, source: Path = knowledge.DEFAULT_DIR) -> Path:
    """Copy `source` to `target` and add synthetic FAQ entries until there are `entries` in all."""
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    kb = knowledge.load(source)
    extra = max(0, entries - len(kb.faqs))
    # A noun the base already uses stays its own: 家庭宽带 made from 家庭 and 宽带 would be an entry answering the
    # out-of-scope example 家庭宽带怎么办理.
    texts = [q.text for faq in kb.faqs for q in faq.questions] + [q.text for t in kb.out_of_scope for q in t.examples]
    names = nouns(2 * extra, taken=frozenset(text[i : i + 2] for text in texts for i in range(len(text) - 1)))
    rng = random.Random(1)
    synthetic = []
    for number in range(extra):
        template = kb.faqs[number % len(kb.faqs)]
        product = _product(names, number, extra)
        questions = [PRODUCT_WORDS.sub(product, q.text) for q in template.questions if len(q.text) <= LONGEST_COPIED]
        questions = list({re.sub(r"\W", "", q.lower()): q for q in questions if product in q}.values())
        questions += [q.format(product) for q in FILLERS][: max(0, 7 - len(questions))]
        rng.shuffle(questions)
        chosen = questions[:QUESTIONS_PER_ENTRY]
        synthetic.append(
            {
                "id": f"synthetic-{number:05d}",
                "question": chosen[0],
                "alternates": chosen[1:],
                "answer": f"{product}的办理方式以当地规定为准。",
                "sources": list(template.sources),
                "reviewed": "2026-12-01",
            }
        )
    document = {"category": "合成", "faqs": synthetic}
    (target / "faqs" / "synthetic.yaml").write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return target


def _product(names: list[str], number: int, extra: int) -> str:
    """The `number`th distinct pair of nouns: each noun once while the dictionary has enough (up to about 3,000
    entries), then every noun paired with others in turn."""
    if len(names) >= 2 * extra:
        return names[2 * number] + names[2 * number + 1]
    first, turn = number % len(names), number // len(names)
    return names[first] + names[(first + 1 + turn) % len(names)]


if __name__ == "__main__":
    print(grow(int(sys.argv[1]), Path(sys.argv[2])))
