# Markdown tables for the documents generated from the code's tables.


def table(header, rows):
    """A GitHub-style table: header, separator, one line per row (cells as given)."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)
