# Interns a .mpy file's string constants when a board loads it, as a frozen image
# already does. MicroPython loads the str constants of a .mpy (the strings of a
# constant table such as fsm.table.TRANSITIONS, and literals over 10 characters)
# as heap str objects, one per occurrence (16 bytes + the text rounded up to 16),
# unless the same text is already interned at that moment. Which texts are depends
# on what was imported before: the same table costs more or less by import order.
# The loader interns a module's own qstr table first, so naming every such text
# there makes each constant a qstr (a 7-byte pool entry + the text once, shared by
# every module): the firmware as .mpy files on 62 modules holds ~10 KB less
# (docs/architecture.md, "Memory and CPU on the boards").
#
# What changes in the file: the qstr table gains entries after its own (the
# bytecode and native code address qstrs by index into that table, so appended
# ones are never addressed) and its count in the header; the constants and the
# code are copied byte for byte. Only the .mpy version this reads (6) is changed;
# any other is left as it is and said so, so a newer mpy-cross still deploys.
# Format: py/persistentcode.c (mp_raw_code_load, load_qstr, load_obj) in MicroPython.
#
# Usage: python tools/mpy/intern_strings.py FOLDER   (rewrites every .mpy in it)

import os
import sys

MPY_VERSION = 6
# py/persistentcode.h, mp_persistent_obj_type_t
OBJ_FUN_TABLE, OBJ_NONE, OBJ_FALSE, OBJ_TRUE, OBJ_ELLIPSIS, OBJ_STR, OBJ_BYTES, OBJ_INT, \
    OBJ_FLOAT, OBJ_COMPLEX, OBJ_TUPLE = range(11)
ARCH_FLAGS_BIT = 0x40   # MPY_FEATURE_ARCH_FLAGS: an arch-flags uint follows the header
# Boards keep a qstr's length in one byte (MICROPY_QSTR_BYTES_IN_LEN = 1): longer
# texts stay str objects.
MAX_QSTR_LEN = 255


class NotInternable(ValueError):
    """The file is not a .mpy this tool reads (its version or layout)."""


def read_uint(buf, pos):
    """(value, next position) of MicroPython's variable-length uint: 7 bits per
    byte, most significant first, the top bit set on every byte but the last."""
    n = 0
    while True:
        if pos >= len(buf):
            raise NotInternable("truncated .mpy")
        b = buf[pos]
        pos += 1
        n = (n << 7) | (b & 0x7F)
        if not b & 0x80:
            return n, pos


def write_uint(n):
    out = [n & 0x7F]
    n >>= 7
    while n:
        out.append(0x80 | (n & 0x7F))
        n >>= 7
    return bytes(reversed(out))


def _skip_obj(buf, pos, strings):
    """Position after one constant object at `pos`, adding its str texts (and
    those inside tuples) to `strings`."""
    kind = buf[pos]
    pos += 1
    if kind in (OBJ_FUN_TABLE, OBJ_NONE, OBJ_FALSE, OBJ_TRUE, OBJ_ELLIPSIS):
        return pos
    n, pos = read_uint(buf, pos)
    if kind == OBJ_TUPLE:
        for _ in range(n):
            pos = _skip_obj(buf, pos, strings)
        return pos
    if kind in (OBJ_STR, OBJ_BYTES):
        if kind == OBJ_STR:
            strings.append(bytes(buf[pos:pos + n]))
        return pos + n + 1                     # the text and its null terminator
    if kind in (OBJ_INT, OBJ_FLOAT, OBJ_COMPLEX):
        return pos + n
    raise NotInternable("unknown constant kind %d" % kind)


def intern(data):
    """(the .mpy `data` with its str constants named in its qstr table, how many
    texts were added). Raises NotInternable for a file it does not read."""
    buf = bytes(data)
    if len(buf) < 4 or buf[0:1] != b"M" or buf[1] != MPY_VERSION:
        raise NotInternable("not a version %d .mpy" % MPY_VERSION)
    pos = 4
    if buf[2] & ARCH_FLAGS_BIT:
        _, pos = read_uint(buf, pos)
    header_end = pos
    n_qstr, pos = read_uint(buf, pos)
    n_obj, pos = read_uint(buf, pos)
    qstr_start = pos
    named = set()
    for _ in range(n_qstr):
        n, pos = read_uint(buf, pos)
        if n & 1:
            continue                           # a static qstr, by its index
        n >>= 1
        named.add(buf[pos:pos + n])
        pos += n + 1
    qstr_end = pos
    strings = []
    for _ in range(n_obj):
        pos = _skip_obj(buf, pos, strings)
    added = []
    for text in strings:
        if text in named or len(text) > MAX_QSTR_LEN or b"\0" in text:
            continue
        named.add(text)
        added.append(text)
    if not added:
        return buf, 0
    extra = b"".join(write_uint(len(t) << 1) + t + b"\0" for t in added)
    return (buf[:header_end] + write_uint(n_qstr + len(added)) + write_uint(n_obj) +
            buf[qstr_start:qstr_end] + extra + buf[qstr_end:]), len(added)


def intern_folder(folder, out=None, skip=()):
    """Rewrites every .mpy under `folder`; returns (files changed, texts added).
    A file this tool does not read is left as it is and said once on `out`."""
    files = texts = 0
    for base, dirs, names in os.walk(folder):
        for name in sorted(names):
            if not name.endswith(".mpy"):
                continue
            path = os.path.join(base, name)
            if os.path.relpath(path, folder)[:-4].replace(os.sep, ".") in skip:
                continue
            with open(path, "rb") as f:
                data = f.read()
            try:
                new, added = intern(data)
            except NotInternable as e:
                (out or sys.stderr.write)("%s: left as compiled (%s)\n" % (path, e))
                continue
            if added:
                with open(path, "wb") as f:
                    f.write(new)
                files += 1
                texts += added
    return files, texts


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python tools/mpy/intern_strings.py FOLDER")
    print("interned %d texts in %d files" % intern_folder(sys.argv[1])[::-1])
