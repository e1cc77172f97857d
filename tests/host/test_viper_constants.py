# Every integer constant in the firmware's viper code loads without a literal word on
# ARMv6-M (RP2040). MicroPython's Thumb emitter builds a constant from instructions when
# it fits 16 bits, or 8 bits shifted (negated or not: asmthumb.c,
# asm_thumb_mov_reg_i32_optimised); any other one is read from a word placed in the
# code, PC-relative, which needs the code 4-byte aligned. mpy-tool (MicroPython 1.29)
# freezes ARMv6-M native code only 2-byte aligned, so such a load may read half an
# instruction instead: on the emulated M0 the summary's start values 0x3FFFFFFF and
# -0x3FFFFFFF came out as -8191 and 122881, and every pass faulted.

import ast

from tests.host.firmware_files import firmware_files


def armv6m_immediate(v):
    """True when the Thumb emitter loads v (a 32-bit int) without a literal word."""
    v &= 0xFFFFFFFF
    if v & 0x80000000 and v != 0x80000000:
        v = (-v) & 0xFFFFFFFF           # the emitter negates a negative constant
    if v < 0x10000:
        return True
    while not v & 1:
        v >>= 1
    return v < 0x100                    # 8 significant bits, shifted


def _module_consts(tree):
    consts = {}
    for node in tree.body:
        if (isinstance(node, ast.Assign) and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name) and isinstance(node.value, ast.Call)
                and isinstance(node.value.func, ast.Name) and node.value.func.id == "const"):
            v = _value(node.value.args[0], consts)
            if v is not None:
                consts[node.targets[0].id] = v
    return consts


_OPS = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b,
        ast.Mult: lambda a, b: a * b, ast.FloorDiv: lambda a, b: a // b,
        ast.LShift: lambda a, b: a << b, ast.RShift: lambda a, b: a >> b,
        ast.BitOr: lambda a, b: a | b, ast.BitAnd: lambda a, b: a & b,
        ast.BitXor: lambda a, b: a ^ b}


def _value(node, consts):
    """The int the compiler folds node to, or None when it is not constant."""
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    if isinstance(node, ast.Name):
        return consts.get(node.id)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.Invert)):
        v = _value(node.operand, consts)
        if v is None:
            return None
        return -v if isinstance(node.op, ast.USub) else ~v
    if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        a = _value(node.left, consts)
        b = _value(node.right, consts)
        if a is None or b is None:
            return None
        return _OPS[type(node.op)](a, b)
    return None


def _is_viper(fn):
    for d in fn.decorator_list:
        if isinstance(d, ast.Attribute) and d.attr == "viper":
            return True
    return False


def _viper_constants(path):
    """(function, line, value) of each folded constant in path's viper functions."""
    tree = ast.parse(open(path).read(), path)
    consts = _module_consts(tree)
    out = []
    for fn in ast.walk(tree):
        if not (isinstance(fn, ast.FunctionDef) and _is_viper(fn)):
            continue
        stack = [(n, False) for n in fn.body]
        while stack:
            node, inside_constant = stack.pop()
            v = _value(node, consts) if isinstance(node, ast.expr) else None
            if v is not None and not inside_constant:
                out.append((fn.name, node.lineno, v))
            for child in ast.iter_child_nodes(node):
                stack.append((child, inside_constant or v is not None))
    return out


def test_immediate_rule():
    for v in (0, 1, 255, 0xFFFF, -0xFFFF, 0x10000, -0x8000, 0xFF000000 - (1 << 32), 0x3FC00):
        assert armv6m_immediate(v), v
    for v in (0x3FFFFFFF, -0x3FFFFFFF, 0x10001, 0x1FF00, 100000):
        assert not armv6m_immediate(v), v


def test_firmware_viper_constants_need_no_literal_word():
    bad = []
    seen = 0
    for path in firmware_files():
        for fn, line, v in _viper_constants(path):
            seen += 1
            if not armv6m_immediate(v):
                bad.append("%s:%d %s(): %d" % (path, line, fn, v))
    assert seen > 20      # the walk found the viper code (bus master, CRC, summary)
    assert not bad, "constants an RP2040 may load wrongly:\n" + "\n".join(bad)
