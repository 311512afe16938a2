"""The demo manufacturer (Nordhavn Foods): a generator and its site-as-code files."""
