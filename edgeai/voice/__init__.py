"""The voice turn: speech to text, intents or the LLM, and speech back, streamed."""
