# Whatever a serial console or web form sends, configuration either validates
# completely or fails with ConfigError naming the problem: no other exception, no
# half-applied change, no value outside its schema range.

from hypothesis import given, settings, strategies as st

from bms import config

NAMES = [row[config.NAME] for row in config.SCHEMA]
values = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6),
                   st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
                   st.lists(st.integers(), max_size=2), st.sampled_from(["true", "0", "4.1", "time"]))
overrides = st.dictionaries(st.one_of(st.sampled_from(NAMES), st.text(max_size=8)), values,
                            max_size=5)


@settings(max_examples=400, deadline=None, database=None)
@given(overrides)
def test_config_make_validates_all_or_raises_config_error(o):
    try:
        cfg = config.make(o)
    except config.ConfigError as e:
        assert str(e)
        return
    for name, kind, default, low, high, unit in config.SCHEMA:
        v = cfg[name]
        if kind == config.BOOL:
            assert v is True or v is False
        elif kind == config.CHOICE:
            assert v in low
        else:
            assert low <= v <= high, (name, v)
    assert config.make(cfg) == cfg  # a validated configuration round-trips unchanged
