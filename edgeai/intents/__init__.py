"""Local intents: the commands a home device gets, understood without the LLM."""
