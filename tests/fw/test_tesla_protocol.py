# Tesla module bus framing, reply checks and conversions (both runtimes).

from bms.pack import TEMP_INVALID
from protocols.tesla import codec
from protocols.tesla import encode
from protocols.tesla.convert import cell_mv, module_mv, temp_dc
from protocols.tesla.codec import crc8, parse_reply, read_frame, write_frame
from protocols.tesla.frame import (E_ADDRESS, E_CRC, E_LENGTH, E_LONG, E_REGISTER, E_SHORT,
                                   E_TIMEOUT, OK)
from protocols.tesla import convert as C
from protocols.tesla import frame as F
from tests.fw.support import raises

VECTORS = ("7F3CA557", "7F20FF7D", "7F20008E", "7F21FF68", "7F21009B", "05338281", "05320508")
PAYLOADS = (("7F3B01", 0x49), ("033403", 0x19), ("813B05", 0x15), ("053B00", 0xAE))


def _hex(s):
    return bytes(int(s[i:i + 2], 16) for i in range(0, len(s), 2))


def test_crc_reference_vectors():
    for v in VECTORS:
        b = _hex(v)
        assert crc8(b[:3]) == b[3], v
        assert crc8(b, 0, 3) == b[3]
    for payload, crc in PAYLOADS:
        assert crc8(_hex(payload)) == crc, payload


def test_write_frames_match_vectors():
    assert write_frame(0x3F, 0x3C, 0xA5) == _hex("7F3CA557")
    assert write_frame(2, 0x33, 0x82) == _hex("05338281")
    assert write_frame(2, 0x32, 0x05) == _hex("05320508")


def test_read_frame_with_and_without_crc():
    assert read_frame(1, 0x01, 0x12) == _hex("020112")
    f = read_frame(1, 0x01, 0x12, True)
    assert len(f) == 4 and f[3] == crc8(f[:3])
    assert read_frame(0, 0, 1) == _hex("000001")


def test_frame_fields_are_range_checked_not_wrapped():
    raises(ValueError, write_frame, 64, 0, 0)
    raises(ValueError, write_frame, 1, 0, 256)
    raises(ValueError, write_frame, -1, 0, 0)
    raises(ValueError, read_frame, 1, 0, 0)
    raises(ValueError, read_frame, 1, 0x100, 1)


def _reply(addr, reg, data, bit7=False):
    r = bytearray([(addr << 1) | (0x80 if bit7 else 0), reg, len(data)]) + bytearray(data)
    return bytes(r + bytearray([crc8(r)]))


def test_check_reply_accepts_good_read_and_echo():
    assert parse_reply(_reply(3, 0x20, b"\x00\x00\x00\x00"), 3, 0x20, 4) == OK
    assert parse_reply(write_frame(2, 0x33, 0x82), 2, 0x33, 0, True, 0x82) == OK


def test_check_reply_names_the_failed_check():
    good = _reply(3, 0x01, bytes(range(18)))
    assert parse_reply(b"", 3, 1, 18) == E_TIMEOUT
    assert parse_reply(good[:-1], 3, 1, 18) == E_SHORT
    assert parse_reply(good + b"\x00", 3, 1, 18) == E_LONG
    assert parse_reply(good, 4, 1, 18) == E_ADDRESS
    assert parse_reply(good, 3, 2, 18) == E_REGISTER
    bad = bytearray(good)
    bad[2] = 17
    assert parse_reply(bytes(bad), 3, 1, 18) == E_LENGTH
    bad = bytearray(good)
    bad[10] ^= 0x01
    assert parse_reply(bytes(bad), 3, 1, 18) == E_CRC
    echo = bytearray(write_frame(2, 0x33, 0x82))
    echo[2] = 0x81
    assert parse_reply(bytes(echo), 2, 0x33, 0, True, 0x82) == E_LENGTH


def test_every_single_byte_corruption_is_caught():
    good = _reply(5, 0x00, bytes(range(19)))
    for pos in range(len(good)):
        for x in (0x01, 0x80, 0xFF, 0x5A):
            bad = bytearray(good)
            bad[pos] ^= x
            assert parse_reply(bytes(bad), 5, 0, 19) != OK, (pos, x)


def test_address_zero_replies_need_bit7_and_accept_either_crc_convention():
    masked = bytearray(_reply(0, 0, b"\x00"))      # CRC over 0x00, then bit 7 set
    masked[0] |= 0x80
    full = _reply(0, 0, b"\x00", bit7=True)        # CRC over 0x80
    assert parse_reply(bytes(masked), 0, 0, 1) == OK
    assert parse_reply(full, 0, 0, 1) == OK
    # our own write to address 0 coming back untouched is not an acknowledge
    assert parse_reply(write_frame(0, 0x3B, 0x81), 0, 0x3B, 0, True, 0x81) == E_ADDRESS


def test_error_names():
    assert codec.error_name(F.E_CRC) == "crc"
    assert codec.error_name(99) == "unknown"
    assert len(codec.ERROR_NAMES) == F.ERROR_COUNT


def test_voltage_conversions():
    assert cell_mv(0) == 0
    assert cell_mv(16383) == 6250
    assert cell_mv(9700) == 3700
    assert module_mv(16383) == 33333
    assert abs(module_mv(11000) - 22381) <= 1
    for mv in range(2500, 4400, 7):
        assert abs(cell_mv(encode.cell_raw(mv)) - mv) <= 1
    for mv in range(15000, 26000, 37):
        assert abs(module_mv(encode.module_raw(mv)) - mv) <= 2


def test_temperature_conversion_and_sensor_faults():
    assert temp_dc(4333) == 250          # 10 kOhm at 25 degC
    assert temp_dc(6258) == 400
    assert temp_dc(0) == TEMP_INVALID    # open thermistor
    assert temp_dc(100) == TEMP_INVALID
    assert temp_dc(16383) == TEMP_INVALID  # shorted
    assert temp_dc(15000) == TEMP_INVALID
    last = -10000
    for raw in range(C.RAW_MIN, C.RAW_MAX + 1, 13):
        t = temp_dc(raw)
        assert t >= last
        last = t
    for dc in range(-400, 1300, 17):
        for ch in (0, 1):
            assert abs(temp_dc(encode.temp_raw(dc, ch), ch) - dc) <= 2, (dc, ch)


def test_threshold_codes():
    assert C.cov_code(4200) == 44
    assert C.cov_code(4250) == 45
    assert C.cov_code(1000) == -1
    assert C.cuv_code(3000) == 23
    assert C.cuv_code(5000) == -1
    assert C.ot_code(650) == 6           # Tesla's OTP default 0x66 = 65 degC on both
    assert C.ot_code(300) == -1
    assert C.delay_code_100ms(1000) == 0x8A
    assert C.delay_code_10ms(1000) == 100
    assert C.cb_time_code(10) == 10
    assert C.cb_time_code(120) == 0x82   # TeslaBMS: two minutes
    assert C.cb_time_code(0) == -1
    assert encode.cb_time_ms(0x82) == 120000


def test_the_links_staging_packs_exactly_as_the_protocol_does():
    from drivers.tesla_link import TeslaLink
    for crc in (False, True):
        link = TeslaLink(None, 4, crc)
        for addr, reg, count in ((0, 0, 1), (5, 0, 19), (62, 0x20, 4), (63, 0x42, 127)):
            buf = bytearray(4)
            n = codec.pack_read(buf, addr, reg, count, crc)
            link.stage_read(addr, reg, count)
            assert bytes(link.tx[:n]) == bytes(buf[:n]) and link.need == count + 4
        for addr, reg, value in ((63, 0x3C, 0xA5), (2, 0x33, 0x82), (0, 0x3B, 0x81)):
            buf = bytearray(4)
            codec.pack_write(buf, addr, reg, value)
            link.stage_write(addr, reg, value)
            assert link.tx == buf and link.need == 4
        for bad in ((64, 0, 1), (1, 256, 1), (-1, 0, 1), (1, 0, 0), (1, 0, 128)):
            raises(ValueError, link.stage_read, *bad)
        for bad in ((64, 0, 0), (1, 0, 256), (-1, 0, 0), (1, -1, 0)):
            raises(ValueError, link.stage_write, *bad)


def test_the_native_judge_converts_temperatures_as_temp_dc():
    from array import array
    from protocols.tesla import plausible as P
    ctx = array("i", [0] * P.CTX_SIZE)
    ctx[P.CTX_TOL] = 1 << 30            # only the temperatures matter here
    ctx[P.CTX_TEMPS] = 14
    volts = array("H", [0] * 16)
    payload = bytearray(P.PAYLOAD)
    rx = bytearray(23)
    for raw in list(range(0, 16384, 7)) + [C.RAW_MIN - 1, C.RAW_MIN, C.RAW_MAX, C.RAW_MAX + 1]:
        rx[18] = rx[20] = raw >> 8
        rx[19] = rx[21] = raw & 0xFF
        P.judge(rx, payload, volts, ctx)
        assert ctx[P.CTX_T1] == temp_dc(raw, 0), raw
        assert ctx[P.CTX_T2] == temp_dc(raw, 1), raw


def test_the_native_store_converts_volts_as_cell_mv_and_module_mv():
    from array import array
    from protocols.tesla import plausible as P
    ctx = array("i", [0] * P.CTX_SIZE)
    ctx[P.CTX_BOARD] = 1
    ctx[P.CTX_MODULES] = 12
    ctx[P.CTX_TEMPS] = 14
    ctx[P.CTX_T1] = -123
    ctx[P.CTX_T2] = TEMP_INVALID
    volts = array("H", [0] * 18)
    payload = bytearray(2 * P.PAYLOAD)
    rx = bytearray(23)
    for raw in range(0, 16384, 13):
        for k in range(4, 18, 2):
            rx[k] = raw >> 8
            rx[k + 1] = raw & 0xFF
        rx[3] = 0x41
        assert C.store_reading(rx, payload, volts, ctx) == 0x41
        assert volts[6:12] == array("H", [cell_mv(raw)] * 6) and volts[13] == module_mv(raw)
        assert volts[0] == 0 and volts[12] == 0                 # board 0 untouched
        assert volts[16] == -123 & 0xFFFF and volts[17] == TEMP_INVALID & 0xFFFF
        assert bytes(payload[P.PAYLOAD:]) == bytes(rx[3:22])
