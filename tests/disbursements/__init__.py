"""Tests of the money app."""
