"""Evaluation: measures `qa` from outside, the way `seedqa eval` and the benchmarks do.

questions (the file format, answer matching) → run (ask and score) → metrics
→ report (terminal table, JSON, Markdown, HTML with plots). It only calls an
assistant's `answer` and `retrieve`; nothing in `qa` imports it.
"""

from evaluation.metrics import Floor
from evaluation.questions import Question, QuestionsFileError, load_questions
from evaluation.records import EvalResult, IngestStats, QuestionRecord
from evaluation.report import summary_table, write_report
from evaluation.run import evaluate, machine_info

__all__ = [
    "EvalResult",
    "Floor",
    "IngestStats",
    "Question",
    "QuestionRecord",
    "QuestionsFileError",
    "evaluate",
    "load_questions",
    "machine_info",
    "summary_table",
    "write_report",
]
