"""The fitted reader: picks the answer sentence and span, and says how sure it is.

`read(ReaderInput, ReaderModel) -> Reading` (qa/reader/reader.py) is what the
extractive answerer calls; `load_model()` reads the shipped weights. See
README.md in this folder for what the model is and how it was fitted.
"""

from qa.reader.features import ReaderInput
from qa.reader.model import ReaderModel, load_model
from qa.reader.reader import Choice, Reading, read

__all__ = ["Choice", "ReaderInput", "ReaderModel", "Reading", "load_model", "read"]
