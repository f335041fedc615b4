"""Straight-line Lua for one layer: the dissecting function the plugin calls per packet.

:class:`~dmdissect.wireshark.generate.Generator` walks each layer's
``fields_desc`` into a plan (its storage groups in order, each field's
ProtoField, mask and place); this module turns a plan into one Lua function
with every offset, size, shift and mask written in as a constant.  Per packet
the plugin then runs that code and interprets no table: Wireshark's Lua pays
for every call and every table access, and a dissector that walks a
description of the layout for each field runs several times slower than one
written out.

Every function has the same contract as the layers' truncation-aware
dissection: ``(tvb, off, limit, tree, ctx) -> obj, off``.  ``obj`` holds the
values read (numbers up to 2**53, ``UInt64`` beyond), ``__layer`` and
``missing``, the C-ordered names of the fields the bytes did not reach (the
bytes end before a storage unit is complete: nothing of it is read).
"""

from __future__ import annotations

from typing import Any

from dmdissect.layers.expressions import lua_value
from dmdissect.wireshark.summaries import Compiler

#: The largest value a Lua 5.2 number (a double) holds exactly is below 2**53;
#: a 64-bit unit whose high word is below this is read as a plain number.
EXACT_HIGH_WORD = 1 << 21
WORD = 1 << 32
#: The most groups a list item is read in one function (each takes up to a dozen
#: of the 200 locals Lua allows a function).
MAX_FLAT_GROUPS = 8
#: The most bytes read in one ``RAW:byte`` call (one local each, of the 200 Lua allows).
MAX_READ_AT_ONCE = 64


def _name(name: str) -> str:
    """``obj.name`` when the name is a Lua identifier, else ``obj["name"]``."""
    return f".{name}" if name.isidentifier() else f"[{lua_value(name)}]"


def _pos(base: str, delta: int) -> str:
    if delta == 0:
        return base
    return f"{base} + {delta}" if delta > 0 else f"{base} - {-delta}"


def _bits_of(word: str, shift: int, bits: int) -> str:
    """The ``bits`` bits from ``shift`` of a Lua number ``word`` below 2**32."""
    value = word if shift == 0 else f"floor({word} / {1 << shift})"
    if shift + bits >= 32:
        return value
    return f"{value} % {1 << bits}"


class LayerEmitter:
    """Writes the Lua function of one planned layer."""

    def __init__(self, key: str, plan: dict[str, Any], plans: dict[str, dict[str, Any]]) -> None:
        self.key = key
        self.plan = plan
        self.plans = plans
        self.lines: list[str] = []
        self.depth = 1
        self.serial = 0
        self.constants: list[str] = []
        self.conditions = Compiler(self.constant, obj="obj", ctx="ctx")
        #: Byte locals read already (one ``RAW:byte`` call for several groups), taken in order.
        self.preread: list[str] = []

    def out(self, text: str) -> None:
        self.lines.append("    " * self.depth + text)

    def fresh(self, stem: str) -> str:
        self.serial += 1
        return f"{stem}{self.serial}"

    def constant(self, value: Any) -> str:
        """A local holding a constant table, made once when the plugin loads."""
        name = f"K{len(self.constants) + 1}_{self.key.replace('.', '_')}"
        self.constants.append(f"local {name} = {lua_value(value)}")
        return name

    def new_obj(self) -> str:
        """The layer's obj, made with a slot for every value it will hold.

        Lua sizes a table for the keys its constructor names (``= nil`` keeps
        them absent): filled in one by one, it would grow and rehash several
        times per packet, which costs more than the values' reading.
        """
        keys = [spec["n"] for group in self.plan["groups"] for spec in group["fields"]]
        slots = "".join(
            f", {name} = nil" if name.isidentifier() else f", [{lua_value(name)}] = nil"
            for name in dict.fromkeys(keys)
        )
        head = f"__layer = {lua_value(self.key)}, __ctx = ctx, missing = NOTHING"
        return f"local obj = {{ {head}{slots} }}"

    def missing(self, group: int) -> None:
        """The bytes end before group ``group`` (0-based): name what is missing, stop."""
        self.out(f"obj.missing = LAYERS[{lua_value(self.key)}].names_from[{group + 1}]")
        self.out("return obj, off")

    def prefix_run(self) -> int:
        """How many leading groups are numbers read in one call when the bytes hold them all."""
        total, count = 0, 0
        for group in self.plan["groups"]:
            size = group.get("size")
            if group["fields"][0]["k"] != "int" or size is None:
                break
            if total + size > MAX_READ_AT_ONCE:
                break
            total, count = total + size, count + 1
        return count if count > 1 else 0

    def read_all(self, size: int) -> None:
        """One ``RAW:byte`` for the next ``size`` bytes; the groups' reads take from it."""
        names = [self.fresh("b") for _ in range(size)]
        self.out(f"local {', '.join(names)} = RAW:byte(off + 1, off + {size})")
        self.preread = names

    def lua(self) -> str:
        self.out(self.new_obj())
        run = self.prefix_run()
        groups = list(enumerate(self.plan["groups"]))
        if run:
            # The common case, every leading number's bytes there: read them in one call
            # (each call costs about as much as a tree item), and check no bound per group.
            total = sum(group["size"] for _, group in groups[:run])
            self.out(f"if off + {total} <= limit then")
            self.depth += 1
            self.read_all(total)
            for index, group in groups[:run]:
                self.out("do")
                self.depth += 1
                self.group_int(index, group, group["fields"][0])
                self.depth -= 1
                self.out("end")
            self.depth -= 1
            self.out("else")
            self.depth += 1
            self.groups(groups[:run])
            self.depth -= 1
            self.out("end")
        self.groups(groups[run:])
        if self.plan.get("version"):
            self.version(self.plan["version"])
        self.out("return obj, off")
        body = "\n".join(self.lines)
        summary = self.summary()
        head = "".join(line + "\n" for line in self.constants)
        return (
            f"{head}DISSECT[{lua_value(self.key)}] = function(tvb, off, limit, tree, ctx)\n"
            f"{body}\nend\n{summary}"
        )

    def groups(self, groups: list[tuple[int, dict]]) -> None:
        """The groups one by one, each after a check that its bytes are there."""
        for index, group in groups:
            first = group["fields"][0]
            if group.get("size") is not None:
                self.out(f"if off + {group['size']} > limit then")
                self.depth += 1
                self.missing(index)
                self.depth -= 1
                self.out("end")
            # Each group's locals live in their own block (Lua allows 200 per function).
            self.out("do")
            self.depth += 1
            getattr(self, f"group_{first['k']}")(index, group, first)
            self.depth -= 1
            self.out("end")

    def summary(self) -> str:
        template = self.plan.get("summary")
        text = '""' if template is None else Compiler(self.constant).phrase(template)
        return f"SUMMARY[{lua_value(self.key)}] = function(obj)\n    return {text}\nend"

    # --- numbers ----------------------------------------------------------------------

    def read(self, size: int, at: str = "off") -> tuple[str, str | None]:
        """Locals holding the unit of ``size`` bytes at ``at``: (low word, high word or None)."""
        low_bytes = min(size, 4)
        if self.preread:
            names, self.preread = self.preread[:size], self.preread[size:]
        else:
            names = [self.fresh("b") for _ in range(size)]
            self.out(f"local {', '.join(names)} = RAW:byte({at} + 1, {at} + {size})")
        low = self.fresh("lo")
        self.out(f"local {low} = {_word(names[:low_bytes])}")
        if size <= 4:
            return low, None
        high = self.fresh("hi")
        self.out(f"local {high} = {_word(names[4:])}")
        return low, high

    def value(self, low: str, high: str | None, bit: int | None, bits: int | None) -> str:
        """The Lua expression of a field: the whole unit, or ``bits`` bits from ``bit``."""
        if bit is None or bits is None:
            if high is None:
                return low
            return (
                f"({high} < {EXACT_HIGH_WORD} and {high} * {WORD} + {low} or UInt64({low}, {high}))"
            )
        if high is None or bit + bits <= 32:
            return _bits_of(low, bit, bits)
        if bit >= 32:
            return _bits_of(high, bit - 32, bits)
        return f"bits64({low}, {high}, {bit}, {bits})"

    # --- groups -------------------------------------------------------------------------

    def group_int(self, index: int, group: dict, first: dict) -> None:
        size = group["size"]
        low, high = self.read(size)
        whole = self.whole_range(group)
        for spec in group["fields"]:
            v = self.fresh("v")
            self.out(f"local {v} = {self.value(low, high, spec.get('bit'), spec.get('bits'))}")
            self.out(f"obj{_name(spec['n'])} = {v}")
            self.add(spec, size, whole, v)
        self.out(f"off = off + {size}")

    def whole_range(self, group: dict) -> str:
        """The local of the group's own bytes as a TvbRange, made only if a field uses it."""
        size = group["size"]
        whole = self.fresh("r")
        if any(
            spec["add"] in ("whole", "value")
            or spec.get("fallback") is not None
            or (spec["add"] == "unit" and spec["unit_off"] == 0 and spec["unit_size"] == size)
            or (spec["add"] == "sub" and spec["sub_off"] == 0 and spec["sub_len"] == size)
            for spec in group["fields"]
        ):
            self.out(f"local {whole} = tvb_range(tvb, off, {size})")
        return whole

    def item_function(self) -> str:
        """For a flat structure (numbers only) in a counted list: one complete item.

        Read first, then the item's subtree is made with its summary as its
        label, then the fields go under it: a tree call fewer than labelling
        the subtree after its fields.  The list only hands over items its
        bytes hold whole, so no bound is checked.
        """
        self.lines, self.depth = [], 1
        self.out(self.new_obj())
        self.out("local start = off")
        total = sum(group["size"] for group in self.plan["groups"])
        if len(self.plan["groups"]) > 1 and total <= MAX_READ_AT_ONCE:
            self.read_all(total)
        reads = []
        for group in self.plan["groups"]:
            size = group["size"]
            low, high = self.read(size)
            values = []
            for spec in group["fields"]:
                v = self.fresh("v")
                self.out(f"local {v} = {self.value(low, high, spec.get('bit'), spec.get('bits'))}")
                self.out(f"obj{_name(spec['n'])} = {v}")
                values.append(v)
            reads.append(values)
            self.out(f"off = off + {size}")
        key = lua_value(self.key)
        self.out(
            f"local tree = add(parent, tvb_range(tvb, start, off - start), "
            f'labels and label .. ": " .. SUMMARY[{key}](obj))'
        )
        self.out("off = start")
        for group, values in zip(self.plan["groups"], reads):
            size = group["size"]
            whole = self.whole_range(group)
            for spec, v in zip(group["fields"], values):
                self.add(spec, size, whole, v)
            self.out(f"off = off + {size}")
        self.out("return obj, off")
        body = "\n".join(self.lines)
        return f"ITEM[{key}] = function(tvb, off, limit, parent, label, ctx)\n{body}\nend"

    @staticmethod
    def flat(plan: dict[str, Any]) -> bool:
        """Only numbers, few enough that their locals fit one Lua function."""
        groups = plan["groups"]
        return (
            not plan.get("version")
            and len(groups) <= MAX_FLAT_GROUPS
            and all(g["fields"][0]["k"] == "int" for g in groups)
        )

    def add(self, spec: dict, size: int, whole: str, v: str) -> None:
        field = spec["f"]
        mode = spec["add"]
        if mode == "whole":
            self.out(f"add_le(tree, {field}, {whole})")
        elif mode == "unit":
            start, length = spec["unit_off"], spec["unit_size"]
            if start == 0 and length == size:
                self.out(f"add_le(tree, {field}, {whole})")
                return
            unit = f"tvb_range(tvb, {_pos('off', start)}, {length})"
            fallback = spec.get("fallback")
            if fallback is None:
                self.out(f"add_le(tree, {field}, {unit})")
                return
            self.out(f"if {_pos('off', start)} < 0 or {_pos('off', start + length)} > limit then")
            self.out(f"    add_le(tree, {fallback}, {whole})")
            self.out("else")
            self.out(f"    add_le(tree, {field}, {unit})")
            self.out("end")
        elif mode == "sub":
            start, length = spec["sub_off"], spec["sub_len"]
            if start == 0 and length == size:
                self.out(f"add_le(tree, {field}, {whole})")
            else:
                self.out(f"add_le(tree, {field}, tvb_range(tvb, {_pos('off', start)}, {length}))")
        elif spec.get("bits") == 1:
            self.out(f"add_le(tree, {field}, {whole}, {v} ~= 0)")
        elif (spec.get("bits") or 0) > 32:
            self.out(f"add_le(tree, {field}, {whole}, u64({v}))")
        else:
            self.out(f"add_le(tree, {field}, {whole}, {v})")

    def struct(self, spec: dict, size: int | str, label: str | None) -> str:
        """Dissect the structure ``spec`` in ``size`` bytes at ``off``: the local of its obj."""
        sub, item = self.fresh("t"), self.fresh("o")
        if spec.get("f"):
            self.out(f"local {sub} = add(tree, {spec['f']}, tvb_range(tvb, off, {size}))")
        else:
            self.out(f"local {sub} = add(tree, tvb_range(tvb, off, {size}), {label})")
        layer = lua_value(spec["layer"])
        self.out(f"local {item}")
        self.out(f"{item}, off = DISSECT[{layer}](tvb, off, off + {size}, {sub}, ctx)")
        if spec.get("f"):
            self.out(f'if labels then append_text({sub}, ": " .. summary_of({item})) end')
        else:
            self.out(f'if labels then set_text({sub}, {label} .. ": " .. summary_of({item})) end')
        return item

    def group_struct(self, index: int, group: dict, first: dict) -> None:
        item = self.struct(first, group["size"], None)
        self.out(f"obj{_name(first['n'])} = {item}")

    def group_optional(self, index: int, group: dict, first: dict) -> None:
        self.out(f"if {self.conditions.condition(first['cond'])} then")
        self.depth += 1
        self.out(f"if off + {first['size']} > limit then")
        self.depth += 1
        self.missing(index)
        self.depth -= 1
        self.out("end")
        item = self.struct(first, first["size"], None)
        self.out(f"obj{_name(first['n'])} = {item}")
        self.depth -= 1
        self.out("end")

    def group_list(self, index: int, group: dict, first: dict) -> None:
        """A counted list: as many items as the count says and the bytes hold."""
        item_size = first["item"]
        count, items, sub = self.fresh("n"), self.fresh("items"), self.fresh("t")
        self.out(
            f"local {count} = max(0, min(tonum(obj{_name(first['count'])} or 0), "
            f"floor((limit - off) / {item_size})))"
        )
        self.out(f"local {items} = {{}}")
        self.out(
            f"local {sub} = add(tree, {first['f']}, tvb_range(tvb, off, {count} * {item_size}))"
        )
        self.out("if labels then")
        self.out(
            f'    append_text({sub}, ": " .. {count} .. ({count} == 1 and " entry" or " entries"))'
        )
        self.out("end")
        self.out(f"for i = 1, {count} do")
        self.depth += 1
        entry = {"layer": first["entry"]["layer"]}
        label = self.fresh("label")
        self.out(f'local {label} = labels and {lua_value(first["n"] + "[")} .. (i - 1) .. "]"')
        if self.flat(self.plans[entry["layer"]]):
            item = self.fresh("o")
            self.out(f"local {item}")
            self.out(
                f"{item}, off = ITEM[{lua_value(entry['layer'])}]"
                f"(tvb, off, limit, {sub}, {label}, ctx)"
            )
        else:
            item = self.struct_in(entry, item_size, label, sub)
        self.out(f"{items}[i] = {item}")
        self.depth -= 1
        self.out("end")
        self.out(f"obj{_name(first['n'])} = {items}")

    def struct_in(self, spec: dict, size: int, label: str, parent: str) -> str:
        """:meth:`struct` under ``parent`` instead of ``tree``."""
        sub, item = self.fresh("t"), self.fresh("o")
        self.out(f"local {sub} = add({parent}, tvb_range(tvb, off, {size}), {label})")
        layer = lua_value(spec["layer"])
        self.out(f"local {item}")
        self.out(f"{item}, off = DISSECT[{layer}](tvb, off, off + {size}, {sub}, ctx)")
        self.out(f'if labels then set_text({sub}, {label} .. ": " .. summary_of({item})) end')
        return item

    def group_sized(self, index: int, group: dict, first: dict) -> None:
        """A list with a byte budget: items until the budget or the bytes end."""
        length = _name(first["length"])
        stop, items, sub = self.fresh("stop"), self.fresh("items"), self.fresh("t")
        self.out(f"local {stop} = off + max(0, min(tonum(obj{length} or 0), limit - off))")
        self.out(f"local {items} = {{}}")
        self.out(f"local {sub} = add(tree, {first['f']}, tvb_range(tvb, off, {stop} - off))")
        self.out(f"while off < {stop} do")
        self.depth += 1
        self.out(f'local label = labels and {lua_value(first["n"] + "[")} .. #{items} .. "]"')
        self.out(f"local item_tree = add({sub}, tvb_range(tvb, off, {stop} - off), label)")
        layer = lua_value(first["entry"]["layer"])
        self.out(f"local item, after = DISSECT[{layer}](tvb, off, {stop}, item_tree, ctx)")
        self.out("if after <= off then")
        self.out("    set_hidden(item_tree)")
        self.out("    break")
        self.out("end")
        self.out("set_len(item_tree, after - off)")
        self.out('if labels then set_text(item_tree, label .. ": " .. summary_of(item)) end')
        self.out(f"{items}[#{items} + 1] = item")
        self.out("off = after")
        self.out("if #item.missing > 0 then break end")
        self.depth -= 1
        self.out("end")
        entries = f'#{items} .. (#{items} == 1 and " entry" or " entries")'
        self.out(f'if labels then append_text({sub}, ": " .. {entries}) end')
        self.out(f"obj{_name(first['n'])} = {items}")

    def group_choice(self, index: int, group: dict, first: dict) -> None:
        """A field whose type depends on others: the first form whose condition holds."""
        forms = [(choice["cond"], choice["field"]) for choice in first["choices"]]
        forms.append((None, first["otherwise"]))
        for number, (cond, spec) in enumerate(forms):
            if cond is None:
                self.out("else" if number else "do")
            else:
                keyword = "if" if number == 0 else "elseif"
                self.out(f"{keyword} {self.conditions.condition(cond)} then")
            self.depth += 1
            if spec["k"] == "int":
                size = spec["size"]
                self.out(f"if off + {size} > limit then")
                self.depth += 1
                self.missing(index)
                self.depth -= 1
                self.out("end")
                low, high = self.read(size)
                whole, v = self.fresh("r"), self.fresh("v")
                self.out(f"local {whole} = tvb_range(tvb, off, {size})")
                self.out(f"local {v} = {self.value(low, high, None, None)}")
                self.out(f"obj{_name(spec['n'])} = {v}")
                self.add(spec, size, whole, v)
                self.out(f"off = off + {size}")
            else:
                claimed = f"tonum(obj{_name(spec['length'])} or 0)"
                n = self.fresh("n")
                self.out(f"local {n} = max(0, min({claimed}, limit - off))")
                self.out(f"obj{_name(spec['n'])} = {{ bytes = {n}, claimed = {claimed} }}")
                self.out(f"add(tree, {spec['f']}, tvb_range(tvb, off, {n}))")
                self.out(f"off = off + {n}")
            self.depth -= 1
        self.out("end")

    def version(self, derived: dict) -> None:
        """The union read as one word, and its name: generated items after the halves."""
        major, minor = _name(derived["major"]), _name(derived["minor"])
        size = derived["size"]
        self.out(f"local whole = tonum(obj{major}) * 65536 + tonum(obj{minor})")
        self.out(f"local at = tvb_range(tvb, off - {size}, {size})")
        self.out(f"set_generated(add(tree, {derived['f_value']}, at, whole))")
        self.out(f"local label = {self.constant(derived['names'])}[whole]")
        self.out("if label ~= nil then")
        self.out(f"    set_generated(add(tree, {derived['f_name']}, at, label))")
        self.out("end")


def _word(names: list[str]) -> str:
    """A little-endian number from up to four byte locals."""
    terms = [name if i == 0 else f"{name} * {1 << (8 * i)}" for i, name in enumerate(names)]
    return " + ".join(terms)


def layer_functions(key: str, plans: dict[str, dict[str, Any]]) -> str:
    """The Lua functions of layer ``key``: dissecting, summary, list item (module docstring)."""
    text = LayerEmitter(key, plans[key], plans).lua()
    if LayerEmitter.flat(plans[key]):
        text = f"{text}\n{LayerEmitter(key, plans[key], plans).item_function()}"
    return text
