"""Use cases shared by the buttons and the terminal: they return results and never print."""
