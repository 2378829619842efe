"""Building index directories: dataset readers, the docstore, the manifest and one builder per retriever."""
