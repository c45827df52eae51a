"""Docker engine and registry-free stand-in base images for the compose tests."""
