"""Questions about the ventures' history: understanding, retrieval, answers with citations."""
