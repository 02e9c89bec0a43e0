"""One browser session's conversation: its turns, their rendered bubbles, its history."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ui import render

if TYPE_CHECKING:
    from qa import Answer, Citation


@dataclass
class Turn:
    """One question and what came back: an answer, or an error a user can act on."""

    question: str
    answer: Answer | None = None
    error: str | None = None
    done: bool = False
    _bubble: str | None = field(default=None, repr=False, compare=False)

    def bubble(self, number: int) -> str:
        """The answer's chat bubble; a finished turn's is rendered once, not on every update."""
        if self._bubble is not None:
            return self._bubble
        if self.error is not None:
            content = render.error_message(self.error)
        elif self.answer is not None:
            content = render.answer_message(self.answer, number, final=self.done)
            if self.done:
                content += unsupported_notice(self.answer)
        else:
            content = render.pending_message()
        if self.done:
            self._bubble = content
        return content


@dataclass
class ChatSession:
    """One browser session's conversation."""

    turns: list[Turn] = field(default_factory=list)
    busy: bool = False

    def history(self) -> list[dict[str, str]]:
        """Finished turns in Gradio's messages format, for follow-up questions."""
        messages = []
        for turn in self.turns:
            if turn.done and turn.answer is not None:
                messages.append({"role": "user", "content": turn.question})
                messages.append({"role": "assistant", "content": turn.answer.text})
        return messages

    def messages(self) -> list[dict[str, str]]:
        """The conversation as Chatbot messages, every piece of document text escaped."""
        shown = []
        for number, turn in enumerate(self.turns):
            shown.append({"role": "user", "content": render.question_message(turn.question)})
            shown.append({"role": "assistant", "content": turn.bubble(number)})
        return shown

    def citation(self, turn: int, n: int) -> Citation | None:
        if not 0 <= turn < len(self.turns):
            return None
        answer = self.turns[turn].answer
        if answer is None or not self.turns[turn].done or not 1 <= n <= len(answer.citations):
            return None
        return answer.citations[n - 1]


_UNSUPPORTED = "warning seedqa-unsupported"  # the warning colour, and a class of its own


def unsupported_notice(answer: Answer) -> str:
    """Sentences of an LLM's answer that the cited passages do not support, flagged as such."""
    if not answer.unsupported:
        return ""
    listed = "\n".join(f"✗ {sentence}" for sentence in answer.unsupported)
    if answer.fallback:
        return render.notice("The model's answer is not supported by the passages, so this "
                             "answer quotes them instead. The model wrote:\n" + listed, _UNSUPPORTED)
    return render.notice("Not supported by the cited passages (check before relying on it):\n"
                         + listed, _UNSUPPORTED)
