"""Load tests of the exam path: locust kiosks against a real ``ruang serve``.

``python -m loadtests --profile smoke --out /tmp/lt`` runs one profile end to end and writes
``report.json`` and ``summary.md``; see :mod:`loadtests.cli` and the README's "Load tests".
"""
