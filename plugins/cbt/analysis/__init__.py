"""Item analysis of CBT exams: pure statistics (:mod:`.stats`) and the adapter that reads
them from the CBT tables (:mod:`.source`)."""
