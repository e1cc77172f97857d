from bms import config
from tests.fw.support import raises


def test_defaults_are_valid():
    values = config.make()
    for row in config.SCHEMA:
        name = row[config.NAME]
        assert config.coerce(name, values[name]) == values[name]


def test_schema_rows_are_well_formed():
    names = set()
    for name, kind, default, low, high, unit in config.SCHEMA:
        assert name not in names, name
        names.add(name)
        assert kind in (config.BOOL, config.INT, config.FLOAT, config.CHOICE)
        # Each setting's help text: tests/host/test_texts.py (the text is host-side).
        if kind in (config.INT, config.FLOAT):
            assert low <= default <= high, name
        if kind == config.CHOICE:
            assert default in low and high is None
    for a, rel, b, only_if, message in config.CROSS_CHECKS:
        assert a in names and b in names and rel == "<" and message
        assert only_if is None or only_if[0] in names


def test_column_names_match_the_row_layout():
    row = config.SCHEMA[0]
    assert len(row) == config.UNIT + 1
    assert (row[config.NAME], row[config.KIND], row[config.DEFAULT]) == ("auto_connect", config.BOOL, True)


def test_out_of_range_names_field_and_range():
    e = raises(config.ConfigError, config.make, {"cell_v_max": 5.0})
    assert "cell_v_max" in str(e) and "4.25" in str(e)
    raises(config.ConfigError, config.make, {"module_count": 0})
    raises(config.ConfigError, config.make, {"module_count": 2.5})
    raises(config.ConfigError, config.make, {"temp_max": float("nan")})
    raises(config.ConfigError, config.make, {"temp_max": float("inf")})
    raises(config.ConfigError, config.make, {"precharge_ms": float("inf")})  # found by fuzzing
    raises(config.ConfigError, config.make, {"precharge_ms": float("nan")})


def test_wrong_types_and_unknown_names():
    assert "integer" in str(raises(config.ConfigError, config.make, {"poll_ms": "fast"}))
    assert "number" in str(raises(config.ConfigError, config.make, {"cell_v_max": None}))
    assert "unknown" in str(raises(config.ConfigError, config.make, {"volts": 1}))
    raises(config.ConfigError, config.make, {"auto_connect": "maybe"})
    raises(config.ConfigError, config.make, {"precharge_mode": "hope"})


def test_text_values_are_coerced():
    values = config.make({"poll_ms": "200", "auto_connect": "false", "cell_v_max": "4.22",
                          "precharge_mode": "time", "precharge_ms": "1000"})
    assert values["poll_ms"] == 200 and values["auto_connect"] is False
    assert values["cell_v_max"] == 4.22 and values["precharge_mode"] == "time"
    assert config.coerce("auto_connect", 1) is True


def test_cross_checks():
    e = raises(config.ConfigError, config.make, {"poll_ms": 800, "stale_ms": 750})
    assert "stale_ms" in str(e)
    raises(config.ConfigError, config.make, {"cell_v_high_warn": 4.22, "cell_v_max": 4.2})
    raises(config.ConfigError, config.make, {"module_count": 3, "parallel_strings": 2})
    raises(config.ConfigError, config.make, {"precharge_mode": "time", "precharge_ms": 6000})
    assert config.make({"precharge_timeout_ms": 1000})["precharge_ms"] == 2000
    assert config.make({"module_count": 4, "parallel_strings": 2})["parallel_strings"] == 2
