"""Fill the operators' reply templates (knowledge/replies.yaml) with answers, options and notes."""

from __future__ import annotations

from bot.knowledge import FaqEntry, KnowledgeBase, relation_template

from .relations import Mention


class Replies:
    """Every text the bot sends is built here from one knowledge base's templates."""

    def __init__(self, kb: KnowledgeBase):
        self.kb = kb
        self.templates = kb.templates

    def fill(self, name: str, **values: str) -> str:
        return self.templates[name].format(**values).strip()

    def answer(self, faq: FaqEntry, place: str | None, province: str | None, named: str | None = None) -> str:
        """The FAQ answer and the user's regional note; else a hint to name the region where the entry has notes,
        or, for a place named in this question, one line saying there is nothing local for it."""
        parts = [faq.answer]
        note_place = self.local_note_place(faq, place, province)
        if note_place:
            parts.append(self.fill("region_note", region=note_place, note=faq.regions[note_place]))
        elif faq.regions and not province:
            parts.append(self.fill("region_hint"))
        elif faq.regions and named:
            parts.append(self.nothing_local(named))
        return "\n\n".join(parts)

    def local_note_place(self, faq: FaqEntry, place: str | None, province: str | None) -> str | None:
        """The city or province the entry has a note for, the city first."""
        return next((p for p in (place, province) if p and p in faq.regions), None)

    def relation_lines(self, product: str, mentions: list[Mention]) -> str:
        """One direct line per verdict for the relatives named (公公婆婆 → no, 哥哥 → depends on the area)."""
        by_verdict: dict[str, list[str]] = {}
        for mention in mentions:
            by_verdict.setdefault(mention.verdicts[product], []).append(mention.text)
        return "\n".join(
            self.fill(relation_template(product, verdict), relatives="、".join(names))
            for verdict, names in by_verdict.items()
        )

    def nothing_local(self, place: str) -> str:
        """One honest line when the user names a place the entry has no local note for."""
        return self.fill("region_nothing_local", place=place)

    def clarify(self, faq_ids: list[str]) -> str:
        lines = [
            self.fill("clarify_option", number=str(number), title=self.kb.faq(faq_id).title)
            for number, faq_id in enumerate(faq_ids, start=1)
        ]
        return self.fill("clarify", options="\n".join(lines))

    def popular(self) -> str:
        """The popular questions, numbered in the order a number in reply picks them."""
        faqs = [self.kb.faq(faq_id) for faq_id in self.kb.popular if self.kb.faq(faq_id)]
        return "\n".join(
            self.fill("popular_item", number=str(n), title=faq.title) for n, faq in enumerate(faqs, start=1)
        )

    def fallback(self, topic_id: str | None) -> str:
        """The out-of-scope topic's own referral (or the general one), else an admission that the bot did not
        understand; then the hotline and what the bot covers."""
        topic = next((t for t in self.kb.out_of_scope if t.id == topic_id), None)
        if topic is None:  # nothing recognised: the user may well have asked about us, unclearly
            refusal = self.fill("fallback_unsure")
        else:
            refusal = topic.reply or self.fill("fallback")
        return f"{refusal}\n{self.fill('hotline')}\n\n{self.what_i_cover()}"

    def what_i_cover(self) -> str:
        return self.fill("what_i_cover", popular=self.popular())

    def smalltalk(self, intent: str | None) -> str:
        found = next((i for i in self.kb.smalltalk if i.id == intent), None)
        if found is None:
            return self.what_i_cover()
        if intent == "help":
            return found.reply + "\n\n" + self.what_i_cover()
        return found.reply

    def smalltalk_lists_popular(self, intent: str | None) -> bool:
        """Whether `smalltalk(intent)` ends with the popular questions (help, and intents without a reply)."""
        return intent == "help" or not any(i.id == intent for i in self.kb.smalltalk)

    def with_policy_note(self, text: str) -> str:
        """An answer, an offer of options or a fallback ends with the one-line reminder that local rules decide."""
        return f"{text}\n\n{self.fill('policy_note')}"
