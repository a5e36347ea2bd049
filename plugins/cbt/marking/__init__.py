"""After the exam: essays marked by people, answer keys corrected, results released."""
