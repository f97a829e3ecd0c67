"""The project's own top layer: the one `ragqa` command line (`ragqa.cli`), the default paths
every layer uses (`ragqa.paths`), the shared CLI failure (`ragqa.console.fail`) and the
LangChain retriever (`ragqa.langchain`, behind the optional `ragqa[langchain]` extra).

Nothing heavy is imported here: lower layers import `ragqa.paths` and `ragqa.console`.
"""
