"""Effect performers: the I/O the engine asks for (HTTP calls, code snippets), kept free of Flask."""
