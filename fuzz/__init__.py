"""Fuzzing harnesses: the same exercise for hypothesis (in the tests) and atheris."""
