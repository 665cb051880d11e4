"""Pure domain: dates, money, aging, credit, escalation, interest, recovery, words.

Imports the standard library, numpy and pandas only: no files, no Excel, no Word.
"""
