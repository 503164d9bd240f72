"""Test vectors for symbolizer/python_lines.c from the interpreter running
this: every code object of a few stdlib modules (nested ones too), as
"FIRSTLINE HEX_LINETABLE OFFSET:LINE ..." per line, the lines from
co_lines(), CPython's own reading of the table (None: -1), one per code
unit (2 bytes) of each range, at most 4000 code objects."""
import importlib
import sys
import types

MODULES = ["json.decoder", "email.message", "argparse", "asyncio.base_events", "textwrap",
           "difflib", "inspect", "dataclasses", "typing", "decimal", "pydoc"]


def code_objects(code):
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from code_objects(const)


def main():
    count = 0
    for name in MODULES:
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        loader = getattr(module, "__loader__", None)
        if loader is None or not hasattr(loader, "get_code"):
            continue
        top = loader.get_code(name)
        if top is None:
            continue
        for code in code_objects(top):
            pairs = []
            for start, end, line in code.co_lines():
                for off in range(start, end, 2):
                    pairs.append(f"{off}:{-1 if line is None else line}")
            print(code.co_firstlineno, code.co_linetable.hex() or "-", " ".join(pairs))
            count += 1
            if count >= 4000:
                return
    print(f"# {count} code objects from Python {sys.version.split()[0]}", file=sys.stderr)


main()
