"""Builders shared by govbus tests: throwaway PKIs and envelopes."""
