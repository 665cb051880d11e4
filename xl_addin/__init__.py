"""Credit control for Excel: aging, credit status, the collection ladder, letters, statements."""

__version__ = "0.1.0"
