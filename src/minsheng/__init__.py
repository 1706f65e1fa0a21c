"""minsheng: the open knowledge graph of Chinese livelihood-project (民生实事) reports."""

__version__ = "0.1.0"
