# Markdown tables for the documents generated from the code's tables, and the
# splicing of generated sections into hand-written documents.

import re


def table(header, rows):
    """A GitHub-style table: header, separator, one line per row (cells as given)."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def replace_sections(text, sections, doc_name):
    """Put each generator's output between its <!-- generated:NAME --> and
    <!-- end:NAME --> markers; sections is ((name, fn), ...). The prose around the
    markers is left alone; a missing pair of markers is an error naming the doc."""
    for name, fn in sections:
        pattern = re.compile(r"(<!-- generated:%s -->\n).*?(<!-- end:%s -->)" % (name, name), re.S)
        if not pattern.search(text):
            raise ValueError("%s lacks the %s markers" % (doc_name, name))
        body = fn() + "\n"
        text = pattern.sub(lambda m: m.group(1) + body + m.group(2), text)
    return text


def regenerate(path, update, argv):
    """The command line of a doc generator: with --write, rewrite path with
    update(text); without, exit 1 when the committed file has drifted."""
    with open(path) as f:
        text = f.read()
    new = update(text)
    if "--write" in argv:
        with open(path, "w") as f:
            f.write(new)
        print("updated", path)
        return 0
    return 0 if new == text else 1
