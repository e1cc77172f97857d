# Doc-only text for the firmware's tables, kept on the host so it costs the board no
# RAM: help texts, notes and descriptions keyed by the name of the row they explain.
# The generated docs (and later the console and web page) read them from here;
# tests/host/test_texts.py fails when a firmware row has no text.
