"""Alexa custom skill: request verification (verify, certs), speech, and the skill's answers."""
