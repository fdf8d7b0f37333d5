"""Trusted documents (CONTRACT 6.5): the operations the console and the clients ship, known by id."""
