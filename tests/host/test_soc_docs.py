# docs/soc.md: its generated tables equal what the code says now.

from tools import soc_docs


def test_generated_sections_do_not_drift():
    with open(soc_docs.PATH) as f:
        text = f.read()
    assert soc_docs.update(text) == text, "run: python -m tools.soc_docs --write"


def test_doc_covers_each_rule_and_the_flash_cost():
    with open(soc_docs.PATH) as f:
        text = f.read()
    for needle in ("Coulomb counting", "Charge efficiency", "Rested OCV", "Full anchor",
                   "Empty anchor", "Current offset", "Capacity and SOH", "Flash cost",
                   "saves a year", "pybms bench soc", "calibrate_zero"):
        assert needle in text, needle
