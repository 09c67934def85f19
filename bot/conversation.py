"""One turn of a conversation: a command, a pending choice, or a question to match."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, replace

from bot.knowledge import KnowledgeBase

from .matching import Match, Matcher
from .messages import Incoming, Option, Reply
from .paging import paginate
from .relations import find_relations, relation_words
from .replies import Replies
from .session import State

_DIGITS = frozenset("123456789")
#: A runner-up this probable, behind an answered question, is most likely a second question in the message.
ALSO_ASKED_PROBABILITY = 0.1


def _also_asked(match: Match | None, answered: str) -> str | None:
    if match is None or len(match.candidates) < 2:
        return None
    runner_up = match.candidates[1]
    return runner_up.faq_id if runner_up.faq_id != answered and runner_up.score >= ALSO_ASKED_PROBABILITY else None


#: Replies about the user's medical insurance end with the local-rules note; greetings, thanks and help do not.
_NOTED_ACTIONS = frozenset({"answer", "clarify", "fallback"})
#: The small-talk intent of asking for a person (人工); its replies carry extra["handoff"].
HANDOFF_INTENT = "human"


@dataclass(frozen=True)
class Turn:
    """The reply, the state to remember, and the match behind it (for the records)."""

    reply: Reply
    state: State
    match: Match | None = None


class Conversation:
    """Pure logic over one knowledge base: (Incoming, State) → Turn; storage is the caller's job."""

    def __init__(self, kb: KnowledgeBase, matcher: Matcher):
        self.kb = kb
        self.matcher = matcher
        self.replies = Replies(kb)

    def turn(self, incoming: Incoming, state: State) -> Turn:
        """The reply to one message, answers ending with the local-rules note; on paged channels, split into pages."""
        turn = self._turn(incoming, state)
        if turn.reply.text is None or turn.reply.action == "page":
            return turn
        text = turn.reply.text
        if turn.reply.action in _NOTED_ACTIONS:
            text = self.replies.with_policy_note(text)
        pages = paginate(text, self.replies.fill("page_footer")) if incoming.paged else [text]
        turn.state.pages = pages[1:]
        return Turn(replace(turn.reply, text=pages[0]), turn.state, turn.match)

    def _turn(self, incoming: Incoming, state: State) -> Turn:
        if incoming.kind in ("subscribe", "enter"):
            template = "greeting" if incoming.kind == "subscribe" else "chat_greeting"
            greeting = self.replies.fill(template, popular=self.replies.popular())
            return self._say(greeting, "event", self._offer_popular(state))
        if incoming.kind == "click":
            return self._menu(incoming, state)
        if incoming.kind == "media":
            text = self.replies.fill("media_unsupported", popular=self.replies.popular())
            return self._say(text, "media", self._offer_popular(state))
        if incoming.kind in ("unsubscribe", "event"):
            return Turn(Reply(None, "none"), state)
        if incoming.kind == "voice" and not incoming.text.strip():
            return self._say(self.replies.fill("voice_unrecognized"), "command", state)
        return self._text(incoming, state)

    def _text(self, incoming: Incoming, state: State) -> Turn:
        command = unicodedata.normalize("NFKC", incoming.text).strip().strip("。.!！~～").lower()
        commands = self.kb.commands
        if command in commands.more:
            return self._next_page(state)
        if command in commands.unhelpful and state.after_fallback:
            return self._handoff(state)
        if command in commands.helpful or command in commands.unhelpful:
            return self._feedback(command in commands.helpful, state)
        choice = int(command) if command in _DIGITS else commands.numbers.get(command)
        if choice and state.options:
            return self._choose(choice, incoming, state)
        if self.kb.faq(command):
            # A client that shows options as buttons sends the FAQ id of the one tapped.
            return self._answer(command, incoming, self._with_region(incoming, state))
        return self._question(incoming, state)

    def _with_region(self, incoming: Incoming, state: State) -> State:
        if incoming.region:
            state.region, state.place = incoming.region, incoming.region
        return state

    def _question(self, incoming: Incoming, state: State) -> Turn:
        match = self.matcher.match(incoming.text)
        # A new question starts afresh but for where the user is: named now, set by the client, or remembered.
        state = self._with_region(
            incoming, State(region=state.region, place=state.place, last_faq_id=state.last_faq_id)
        )
        if match.region:
            state.region, state.place = match.region, match.place
        if match.action == "answer":
            return self._answer(match.faq_id, incoming, state, match)
        if match.action == "clarify":
            options = [c.faq_id for c in match.candidates]
            state.options = options
            state.relatives = relation_words(incoming.text, self.kb.relations)
            text = self.replies.fill("clarify_buttons") if incoming.buttons else self.replies.clarify(options)
            reply = Reply(
                text,
                "clarify",
                region=state.region,
                score=match.score,
                options=self._options(options),
            )
            return Turn(reply, state, match)
        if match.action == "smalltalk":
            if match.intent is None and match.region and state.last_faq_id:
                return self._place_after_answer(incoming, state, match)
            text = self.replies.smalltalk(match.intent)
            if self.replies.smalltalk_lists_popular(match.intent):
                self._offer_popular(state)
            extra = {"intent": match.intent, "handoff": match.intent == HANDOFF_INTENT}
            return Turn(Reply(text, "smalltalk", region=state.region, extra=extra), state, match)
        state.after_fallback = True
        self._offer_popular(state)  # the fallback ends with the popular questions, numbered
        text = self.replies.fallback(match.intent)
        return Turn(Reply(text, "fallback", region=state.region, score=match.score), state, match)

    def _place_after_answer(self, incoming: Incoming, state: State, match: Match) -> Turn:
        """Only a place named after an answer: the answer with its local note, or one line saying there is none."""
        faq = self.kb.faq(state.last_faq_id)
        if faq and self.replies.local_note_place(faq, state.place, state.region):
            return self._answer(faq.id, incoming, state, match)
        text = self.replies.nothing_local(state.place or state.region)
        return Turn(Reply(text, "smalltalk", faq_id=state.last_faq_id, region=state.region), state, match)

    def _answer(
        self, faq_id: str, incoming: Incoming, state: State, match: Match | None = None, chosen: bool = False
    ) -> Turn:
        """`chosen`: picked from the options offered, so the relatives are those of the question asked before."""
        faq = self.kb.faq(faq_id)
        named_place = (match.place or match.region) if match else None
        answer = self.replies.answer(faq, state.place, state.region, named_place)
        relatives = state.relatives if chosen else relation_words(incoming.text, self.kb.relations)
        product = self.kb.relations.entries.get(faq_id)
        mentions = find_relations(" ".join(relatives), self.kb.relations) if product else []
        if mentions:
            # "Can my 公公 use it?" gets a yes or no for that relative first, then the general answer.
            answer = self.replies.relation_lines(product, mentions) + "\n" + answer
        also = _also_asked(match, faq_id)
        state.last_faq_id, state.options, state.after_fallback = faq_id, [also] if also else [], False
        state.relatives = relatives
        if also and not incoming.buttons:
            # Two questions in one message: the second is offered first, answered by replying 1.
            answer += "\n\n" + self.replies.fill("also_asked", title=self.kb.faq(also).title)
        if not incoming.buttons:
            answer += "\n\n" + self.replies.fill("feedback_prompt")
        reply = Reply(
            answer,
            "answer",
            faq_id=faq_id,
            region=state.region,
            score=match.score if match else 1.0,
            related=self._options(list(dict.fromkeys([*([also] if also else []), *faq.related]))),
            extra={"title": faq.title, "answer": faq.answer},
        )
        return Turn(reply, state, match)

    def _choose(self, number: int, incoming: Incoming, state: State) -> Turn:
        if not 1 <= number <= len(state.options):
            text = self.replies.fill("option_out_of_range", count=str(len(state.options)))
            return self._say(text, "command", state)
        return self._answer(state.options[number - 1], incoming, state, chosen=True)

    def _next_page(self, state: State) -> Turn:
        if not state.pages:
            return self._say(self.replies.fill("no_more_pages"), "command", state)
        page, state.pages = state.pages[0], state.pages[1:]
        return Turn(Reply(page, "page", faq_id=state.last_faq_id, region=state.region), state)

    def _feedback(self, helpful: bool, state: State) -> Turn:
        if state.last_faq_id is None:
            return self._say(self.replies.fill("feedback_nothing"), "command", state)
        text = self.replies.fill("feedback_thanks" if helpful else "feedback_sorry")
        reply = Reply(text, "feedback", faq_id=state.last_faq_id, extra={"helpful": helpful})
        return Turn(reply, state)

    def _menu(self, incoming: Incoming, state: State) -> Turn:
        target = self.kb.menu.get(incoming.text)
        if target is None:
            return Turn(Reply(None, "none"), state)
        if target == "popular":
            return self._say(self.replies.what_i_cover(), "command", self._offer_popular(state))
        if target == "help":
            return self._say(self.replies.smalltalk("help"), "command", self._offer_popular(state))
        return self._answer(target, incoming, state)

    def _offer_popular(self, state: State) -> State:
        """The popular questions are shown numbered: replying with a number answers that one."""
        state.options = [faq_id for faq_id in self.kb.popular if self.kb.faq(faq_id)]
        state.relatives = []  # the popular questions are not answers to what the user asked
        return state

    def _handoff(self, state: State) -> Turn:
        """The user rejected a fallback: they need a person (a channel may transfer them, else the hotline)."""
        state.after_fallback = False
        text = self.replies.smalltalk(HANDOFF_INTENT)
        return Turn(
            Reply(text, "command", region=state.region, extra={"intent": HANDOFF_INTENT, "handoff": True}), state
        )

    def _say(self, text: str, action: str, state: State) -> Turn:
        return Turn(Reply(text, action, region=state.region), state)

    def _options(self, faq_ids: list[str]) -> tuple[Option, ...]:
        return tuple(Option(f, self.kb.faq(f).title) for f in faq_ids if self.kb.faq(f))
