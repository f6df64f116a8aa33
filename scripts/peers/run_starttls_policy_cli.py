"""Runs the publisher's consumer, starttls-policy-cli (PyPI), on Python >= 3.10.

The CLI (last released 2019) uses collections.Mapping, which moved to collections.abc in Python 3.3 and
was removed from collections in 3.10; alias it back before importing, then run the CLI's own main().
"""
import collections
import collections.abc
import sys

for name in ("Mapping", "MutableMapping", "Sequence", "Iterable"):
    if not hasattr(collections, name):
        setattr(collections, name, getattr(collections.abc, name))

from starttls_policy_cli.main import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
