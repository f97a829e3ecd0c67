"""The roof: the one `ragqa` command line (`ragqa.cli`), which mounts every layer's commands,
and the LangChain retriever (`ragqa.langchain`, behind the optional `ragqa[langchain]` extra).

Nothing below imports this package. The default paths every layer uses are `corpus.paths`,
the shared CLI failure is `corpus.console.fail`, the settings are `index.settings`.
"""
