"""seedqa: question answering over your documents, with citations.

The layers, each importing only those below it:
    cli, ui       the command line and the web chat; they only call qa
    evaluation    measures qa from outside (seedqa eval, benchmarks)
    qa            retrieve → answer, cited; the one door for writes (Assistant)
    ingest        load → chunk → embed → write
    index         records, the embedding model, the Chroma store
    seedqa        the ground: settings, errors, text helpers, the offline switches
"""

__version__ = "0.1.0"
