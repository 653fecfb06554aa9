"""Tests of the volunteers app."""
