"""Builders of test inputs shared by the test suites."""
