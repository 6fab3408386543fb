"""Patient statements: the content (one rule for every amount), the PDF, the statement run
with its email notices and its print batch of letters."""
