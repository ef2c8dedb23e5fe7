"""The few helpers the Python client suites share: one line per check, a closing
`N passed, N failed` line, and a non-zero exit on any failure."""

import sys
import traceback


class Suite:
    def __init__(self, prefix=""):
        self.prefix = prefix
        self.results = []

    def case(self, fn):
        """Decorator: run `fn` now; its docstring names the check."""
        name = self.prefix + fn.__doc__.strip()
        try:
            fn()
            self.results.append(True)
            print(f"PASS  {name}", flush=True)
        except Exception as err:  # noqa: BLE001 - every failure is reported the same way
            self.results.append(False)
            print(f"FAIL  {name}: {type(err).__name__}: {err}", flush=True)
            traceback.print_exc(file=sys.stderr)
        return fn

    def finish(self):
        passed = sum(self.results)
        failed = len(self.results) - passed
        print(f"{passed} passed, {failed} failed")
        sys.exit(1 if failed else 0)


def expect(cond, what):
    if not cond:
        raise AssertionError(what)
