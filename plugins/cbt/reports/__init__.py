"""Reports of the CBT plugin: results exports (XLSX, CSV), result slips and the minutes
(berita acara) as PDF, each built from plain dataclasses; :mod:`.source` fills them from
the CBT tables."""
