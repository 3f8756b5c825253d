"""The rules: what each action needs, checked before anything reaches the chain."""
