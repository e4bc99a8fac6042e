"""Benchmarks of transformer_lib against its references (issue 7). Run: python -m benchmarks.run --help"""
