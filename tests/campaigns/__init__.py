"""Tests of archive.campaigns."""
