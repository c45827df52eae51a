"""The tts service: text → audio file in the shared audio store (the engine comes later)."""
